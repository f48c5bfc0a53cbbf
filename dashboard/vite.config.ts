/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies /v1/graphql to a running console server (or Hasura) so the
// default same-origin endpoint works in development too.
const apiTarget = process.env.EVENTSCOPE_API_PROXY ?? 'http://127.0.0.1:3000';

export default defineConfig({
  plugins: [react()],
  // The seed configures the dashboard with REACT_APP_* variables in dashboard/.env.
  envPrefix: ['VITE_', 'REACT_APP_'],
  base: '/',
  server: {
    port: 5173,
    proxy: { '/v1': { target: apiTarget, changeOrigin: true } },
  },
  preview: {
    proxy: { '/v1': { target: apiTarget, changeOrigin: true } },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
    chunkSizeWarningLimit: 1500,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    css: false,
  },
});
