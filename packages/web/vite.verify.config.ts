import { sha256 } from '@noble/hashes/sha2.js';
import { defineConfig, type Plugin } from 'vite';

const b64 = (text: string): string => btoa(String.fromCharCode(...sha256(new TextEncoder().encode(text))));

/**
 * Folds the IIFE and its CSS into one HTML file, dist/verify-bundle.html, whose
 * CSP allows exactly that script and that style (by hash) and no request at all.
 */
const inlineHtml = (): Plugin => ({
  name: 'stele-verify-page',
  enforce: 'post',
  generateBundle(_options, bundle) {
    let js = '';
    let css = '';
    for (const [name, item] of Object.entries(bundle)) {
      if (item.type === 'chunk') js += item.code;
      else if (name.endsWith('.css')) css += String(item.source);
      else continue;
      delete bundle[name];
    }
    // Nothing in a script element may close it early.
    js = js.replace(/<\/(script)/gi, '<\\/$1');
    const csp = `default-src 'none'; script-src 'sha256-${b64(js)}'; style-src 'sha256-${b64(css)}'; img-src data:; base-uri 'none'; form-action 'none'`;
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Stele evidence verifier</title>
<link rel="icon" href="data:,">
<style>${css}</style>
</head>
<body>
<script>${js}</script>
</body>
</html>
`;
    this.emitFile({ type: 'asset', fileName: 'verify-bundle.html', source: html });
  },
});

// `vite build -c vite.verify.config.ts`: after the console's build, into the same dist/.
export default defineConfig({
  plugins: [inlineHtml()],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    cssCodeSplit: false,
    lib: { entry: 'src/verifyPage.ts', formats: ['iife'], name: 'SteleVerifyBundle', fileName: () => 'verify-bundle.js' },
  },
});
