// Parsed and checked documents, by role schema and query text. A dashboard sends the same few documents over and
// over with different variables; parsing and validating one costs more than compiling it (graphql-js' rules walk
// the whole document against the schema), so each role keeps its recent documents, as Hasura keeps its plans.
// Only what depends on the text alone is kept (validation.ts checkDocument); the variables are checked, coerced
// and compiled per request. Keyed by the schema object, so a role whose schema is rebuilt starts empty, and a
// schema that is dropped takes its documents with it.
import { parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { HasuraError } from './errors.js';
import { checkDocument, type CheckedDocument } from './validation.js';

export interface DocumentEntry { document: DocumentNode; checked: CheckedDocument }

export interface DocumentCacheLimits {
  /** Documents kept per role schema; the least recently used goes first. */
  entriesPerSchema: number;
  /** Longer query texts are checked every time and never kept, so the cache holds at most entries x this. */
  maxQueryLength: number;
}

export const DEFAULT_DOCUMENT_CACHE: DocumentCacheLimits = { entriesPerSchema: 256, maxQueryLength: 16 * 1024 };

export class DocumentCache {
  private readonly bySchema = new WeakMap<GraphQLSchema, Map<string, DocumentEntry>>();

  constructor(private readonly limits: DocumentCacheLimits = DEFAULT_DOCUMENT_CACHE,
    private readonly onLookup: (hit: boolean) => void = () => {}) {}

  /**
   * The document and its checks for this text and operation name. Throws what parsing or the value-free checks
   * throw; a failing document is not kept (clients do not repeat those, and they should not fill the cache).
   */
  get(schema: GraphQLSchema, query: string, operationName: string | undefined, isAdmin: boolean): DocumentEntry {
    const cacheable = this.limits.entriesPerSchema > 0 && query.length <= this.limits.maxQueryLength;
    const key = `${operationName ?? ''}\u0000${query}`;
    let entries = cacheable ? this.bySchema.get(schema) : undefined;
    const found = entries?.get(key);
    if (found) {
      this.onLookup(true);
      entries!.delete(key); // re-inserted: a Map iterates in insertion order, so its first key is the least recent
      entries!.set(key, found);
      return found;
    }
    this.onLookup(false);
    let document: DocumentNode;
    try { document = parse(query, { maxTokens: 50000 }); } catch (e) {
      throw new HasuraError('not a valid graphql query', 'validation-failed', '$.query', isAdmin ? { error: (e as Error).message } : undefined);
    }
    const entry = { document, checked: checkDocument(schema, document, operationName) };
    if (cacheable) {
      if (!entries) this.bySchema.set(schema, (entries = new Map()));
      if (entries.size >= this.limits.entriesPerSchema) entries.delete(entries.keys().next().value!);
      entries.set(key, entry);
    }
    return entry;
  }
}
