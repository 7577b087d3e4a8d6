import { defineConfig } from 'vite';

// `npm run dev -w packages/web` proxies the API to a local `stele serve`.
export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
