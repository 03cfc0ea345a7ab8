// What both demo elements (<rnn-mnist-demo>, <rnn-text-demo>) look like, and what they say without WebGPU.
import { LEGEND_GRADIENT } from './heatmap.js';

export const NO_WEBGPU_HELP = `
  <p><strong>WebGPU is not available in this browser</strong>, so the network cannot be trained here.</p>
  <ul>
    <li>Use a browser with WebGPU: Chrome or Edge 113 or later, Safari 26 or later, or Firefox 141 or later on Windows.</li>
    <li>In Chrome on Linux, or where WebGPU is switched off, enable it at <code>chrome://flags/#enable-unsafe-webgpu</code>
      (or start Chrome with <code>--enable-unsafe-webgpu</code>) and check that hardware acceleration is on
      (<code>chrome://gpu</code>).</li>
  </ul>`;

export const STYLE = `
  :host { display: block; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d232b;
    --accent: #1f5fa8; --border: #d6dbe1; --muted: #5d6773; }
  * { box-sizing: border-box; }
  .root { border: 1px solid var(--border); border-radius: 10px; background: #fff; padding: 14px 16px; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 14px; margin-bottom: 8px; }
  h2 { font-size: 17px; margin: 0; }
  h3 { font-size: 14px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  .status { color: var(--muted); }
  .grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
  section { min-width: 0; }
  button { font: inherit; padding: 5px 14px; border: 1px solid var(--border); border-radius: 6px; background: #f6f8fa; cursor: pointer; }
  button:hover:enabled { border-color: var(--accent); }
  button:disabled { opacity: .45; cursor: default; }
  button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
  .buttons { display: flex; gap: 8px; flex-wrap: wrap; margin-bottom: 10px; }
  dl.stats { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0 0 10px; font-variant-numeric: tabular-nums; }
  dt { color: var(--muted); }
  dd { margin: 0; font-weight: 600; }
  .bar-wrap { height: 4px; background: #eef1f4; border-radius: 2px; margin-bottom: 10px; overflow: hidden; }
  .bar-wrap > div { height: 100%; width: 0; background: var(--accent); transition: width .2s; }
  .note { color: var(--muted); font-size: 12.5px; margin: 6px 0 0; }
  .pad-wrap { position: relative; width: 280px; max-width: 100%; }
  .hint { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #777; pointer-events: none; }
  canvas.pad { width: 280px; height: 280px; max-width: 100%; aspect-ratio: 1; border-radius: 6px; touch-action: none; cursor: crosshair; display: block; }
  .prediction { display: flex; align-items: center; gap: 14px; margin: 10px 0 6px; min-height: 56px; }
  .digit { font-size: 44px; font-weight: 700; width: 44px; text-align: center; color: var(--accent); }
  .probs { display: grid; grid-template-columns: 14px 1fr 44px; gap: 1px 8px; font-size: 12.5px; font-variant-numeric: tabular-nums; }
  .probs .p { height: 11px; align-self: center; background: #eef1f4; border-radius: 2px; overflow: hidden; }
  .probs .p > div { height: 100%; background: #9bb3cf; }
  .probs .top > div { background: var(--accent); }
  .probs span:nth-child(3n) { text-align: right; color: var(--muted); }
  .viz { display: flex; gap: 12px; align-items: flex-start; }
  figure { margin: 0; }
  figcaption { font-size: 12px; color: var(--muted); margin-top: 4px; max-width: 180px; }
  canvas.input { width: 168px; height: 168px; border-radius: 4px; display: block; }
  .mapwrap { position: relative; }
  canvas.map { width: 168px; height: 300px; display: block; image-rendering: pixelated; border: 1px solid var(--border); }
  .marker { position: absolute; top: -3px; bottom: -3px; width: 6px; border: 2px solid #ffb000; border-radius: 2px; display: none; pointer-events: none; }
  .legend { display: flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted); margin-top: 8px; }
  .digit-buttons { display: grid; grid-template-columns: repeat(10, 1fr); gap: 4px; margin-bottom: 10px; max-width: 360px; }
  .digit-buttons button { padding: 4px 0; font-weight: 600; font-variant-numeric: tabular-nums; }
  .legend .g { width: 120px; height: 10px; border-radius: 2px; background: ${LEGEND_GRADIENT}; }
  .message { border: 1px solid #e5b3a8; background: #fdf3f1; color: #6b1d10; border-radius: 8px; padding: 10px 14px; margin-bottom: 10px; }
  .message.unsupported { border-color: #e3c77a; background: #fffaeb; color: #4a3a06; }
  .message p { margin: 0 0 6px; }
  .message ul { margin: 0; padding-left: 20px; }
  .message .details { font-size: 12.5px; opacity: .85; margin-top: 6px; }
  .message button { float: right; padding: 0 8px; }
  [hidden] { display: none !important; }
`;

