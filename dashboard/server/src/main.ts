#!/usr/bin/env node
// Entry point: load config, build the engine (metadata + catalog; fails loudly on metadata mistakes), listen.
import { ConfigError, HELP, loadConfig, unsupportedHasuraSettings } from './config.js';
import { Engine } from './engine.js';
import { HttpServer } from './http.js';
import { MetadataError } from './metadata.js';

async function main() {
  let config;
  try { config = loadConfig(process.argv.slice(2), process.env); } catch (e) {
    if (e instanceof ConfigError) { console.error(e.message); process.exit(2); }
    throw e;
  }
  if (config === 'help') { console.log(HELP); return; }
  let engine: Engine;
  try { engine = await Engine.create(config); } catch (e) {
    if (e instanceof MetadataError) console.error(`FATAL ${e.message}`);
    else console.error(`FATAL could not start: ${(e as Error).message}`);
    process.exit(1);
  }
  const m = engine.model;
  // Never ignore a Hasura setting silently: everything not applied is named here.
  for (const w of [...unsupportedHasuraSettings(process.env), ...engine.metadata.unsupported]) console.warn(`WARNING: ${w}`);
  console.log(`source "${m.source}": ${m.tables.size} tables, roles: ${['admin', ...m.roles].join(', ')}`);
  if (!config.adminSecret) console.warn('WARNING: HASURA_GRAPHQL_ADMIN_SECRET is not set: dev mode, requests without x-hasura-role are ' + (config.browserRole ? `served as role "${config.browserRole}"` : 'ADMIN'));
  if (config.browserRole) console.log(`requests without credentials are served as role "${config.browserRole}"${m.roles.has(config.browserRole) ? '' : ' (WARNING: no table grants this role a select permission)'}`);
  const http = new HttpServer(engine);
  const { port, host } = await http.listen(config.port, config.host);
  console.log(`listening on http://${host}:${port} (POST /v1/graphql, ws /v1/graphql, GET /healthz${config.enableMetrics ? ', GET /metrics' : ''}; static: ${config.staticDir ?? 'off'})`);
  if (config.allowedHosts.length) console.log(`Host names accepted besides ${host}: ${config.allowedHosts.join(', ')}`);
  const shutdown = async () => { await http.close(); await engine.close(); process.exit(0); };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((e) => { console.error(e); process.exit(1); });
