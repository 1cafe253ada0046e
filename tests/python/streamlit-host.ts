import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript' };

/**
 * What Streamlit does for a declared component, and no more: it serves the component's folder
 * under /component/ and, at /, a page with the component's iframe that answers
 * "streamlit:componentReady" with "streamlit:render" (the arguments come from the address's hash)
 * and applies "streamlit:setFrameHeight", keeping every height in window.frameHeights.
 */
const HOST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Analysis</title></head>
<body style="margin:0">
<h1 style="font:16px sans-serif">Analysis</h1>
<iframe id="component" src="/component/index.html" style="width:720px;height:0;border:0;display:block"></iframe>
<script>
  window.frameHeights = [];
  var frame = document.getElementById('component');
  var args = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  window.addEventListener('message', function (event) {
    if (event.source !== frame.contentWindow || !event.data || !event.data.isStreamlitMessage) return;
    if (event.data.type === 'streamlit:componentReady') frame.contentWindow.postMessage({ type: 'streamlit:render', args: args }, '*');
    if (event.data.type === 'streamlit:setFrameHeight') { window.frameHeights.push(event.data.height); frame.style.height = event.data.height + 'px'; }
  });
</script>
</body></html>`;

export class StreamlitHost {
  readonly #root: string;
  readonly #server: Server;

  constructor(componentRoot: string) {
    this.#root = componentRoot;
    this.#server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://host').pathname;
      if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(HOST_PAGE);
      if (!path.startsWith('/component/')) return void res.writeHead(404).end();
      const file = normalize(join(this.#root, path.slice('/component/'.length)));
      if (!file.startsWith(this.#root)) return void res.writeHead(403).end();
      readFile(file).then(
        (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
  }

  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
