// The console is server-rendered by pswm-server (Astro's node adapter in middleware mode). Every
// script and style is an external file under /_astro/ so the Content-Security-Policy needs no
// 'unsafe-inline'.
import node from '@astrojs/node';
import { defineConfig } from 'astro/config';

const server = process.env.PSWM_SERVER_URL;

export default defineConfig({
  output: 'server',
  adapter: node({ mode: 'middleware' }),
  build: { inlineStylesheets: 'never' },
  devToolbar: { enabled: false },
  vite: {
    build: { assetsInlineLimit: 0 },
    // `npm run dev -w console -- --server URL`: the login form and live stream talk to that server.
    server: server ? { proxy: { '/api': { target: server, changeOrigin: false } } } : {},
  },
});
