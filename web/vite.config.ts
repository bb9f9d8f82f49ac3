import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

// `npm run dev -w web` proxies the API (and its WebSocket) to a server started with `npm run dev`.
const api = process.env.API_ORIGIN ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    fs: { allow: ['..'] },
    proxy: { '/api': { target: api, ws: true, changeOrigin: false } },
  },
  build: { target: 'es2022' },
});
