// <rnn-text-demo>: a character-level RNN learning English (the Brown corpus by default) live in the page on WebGPU:
// the loss curve, a sample that updates as it learns, a prompt box and a temperature slider.
//
// Embedding, in the same bundle as <rnn-mnist-demo> (element.ts imports this file, so the one script defines both):
//   <script type="module" src=".../webgpu-rnn-demo.js"></script>
//   <rnn-text-demo text-url="./brown.txt" units="128" autostart></rnn-text-demo>
//
// This file is the user interface (main thread); the device, the text and the model live in text-worker.ts.
import { WorkerLink } from './worker-link.js';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { TrainingChart } from './chart.js';
import { NO_WEBGPU_HELP, STYLE } from './style.js';
import type { Sampling, TextConfig, TextReply, TextRequest, TextSample } from './text-protocol.js';
import TextWorker from './worker-entry.ts?worker&inline';

/** The `progress` event's detail. */
export interface TextProgressDetail {
  step: number;
  epoch: number;
  /** Mean training loss (cross-entropy per character, in nats) over the last chunk of steps. */
  loss: number;
  seqPerSec: number;
}

type State = 'idle' | 'loading' | 'ready' | 'running' | 'broken' | 'unsupported';
type Reply_<T extends TextReply['type']> = Extract<TextReply, { type: T }>;

const DEFAULTS = {
  textUrl: './brown.txt', textLimit: 0, units: 128, cell: 'tanh' as const, steps: 32, batchSize: 64, learningRate: 0.003,
  sampleLength: 200, seed: 1, prompt: 'The ', temperature: 0.8,
};
const MAX_TEMPERATURE = 2;

const TEXT_STYLE = `
  .controls { display: grid; grid-template-columns: auto 1fr auto; gap: 8px 10px; align-items: center; margin-bottom: 10px; }
  .controls label { color: var(--muted); }
  .controls input[type=text] { font: inherit; padding: 4px 8px; border: 1px solid var(--border); border-radius: 6px; min-width: 0; grid-column: span 2; }
  .controls input[type=range] { width: 100%; }
  .controls output { font-variant-numeric: tabular-nums; min-width: 3em; text-align: right; }
  pre.sample { white-space: pre-wrap; word-break: break-word; font: 14px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace;
    background: #f6f8fa; border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; margin: 0; min-height: 7.5em; }
  pre.sample b { color: var(--accent); }
`;

export class RnnTextDemo extends HTMLElement {
  private readonly link = new WorkerLink<TextRequest, TextReply>();
  private state: State = 'idle';
  private config: TextConfig | undefined;
  private startWhenReady = false;
  private last: TextProgressDetail | undefined;
  private latest: TextSample | null = null;
  private tearDown: (() => void) | undefined;
  private ui: ReturnType<RnnTextDemo['render']> | undefined;
  private chart: TrainingChart | undefined;

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
  }

  connectedCallback(): void {
    if (this.tearDown) {
      this.tearDown = undefined;
      return;
    }
    if (this.link.connected || this.state === 'unsupported') return;
    this.latest = null;
    this.ui = this.render();
    const gpu = (navigator as Navigator & { gpu?: unknown }).gpu;
    if (!gpu) {
      this.unsupported('This browser has no navigator.gpu.');
      return;
    }
    this.config = this.readConfig();
    this.startWhenReady = this.hasAttribute('autostart');
    try {
      this.link.start(() => new TextWorker({ name: 'rnn-text-demo' }), (reply) => this.receive(reply), (message, fatal) => this.fail(message, fatal));
    } catch (error) {
      this.fail(`Could not start the training worker: ${(error as Error).message}`, true);
      return;
    }
    this.setState('loading');
    this.send({ type: 'init', config: this.config, sampling: this.sampling() });
  }

  disconnectedCallback(): void {
    const tearDown = () => {
      if (this.tearDown !== tearDown) return;
      this.tearDown = undefined;
      this.dispose();
    };
    this.tearDown = tearDown;
    queueMicrotask(tearDown);
  }

  // ---- the host's API ----

  /** Starts (or resumes) training; before the text has loaded, training starts as soon as it has. */
  start(): void {
    if (this.state === 'ready') this.send({ type: 'start' });
    else if (this.state === 'loading' || this.state === 'idle') this.startWhenReady = true;
  }

  pause(): void {
    this.startWhenReady = false;
    if (this.link.connected) this.send({ type: 'pause' });
  }

  /** A new untrained model (paused), with the attributes as they are now; reloads the text if its attributes changed. */
  reset(): void {
    if (!this.link.connected || !this.ui) return;
    this.startWhenReady = false;
    this.config = this.readConfig();
    this.last = undefined;
    this.chart?.clear();
    this.ui.error.hidden = true;
    this.setState('loading');
    this.updateStats();
    this.send({ type: 'reset', config: this.config, sampling: this.sampling() });
  }

  /**
   * `length` characters (default sample-length) the model writes after `prompt` (default: the prompt box), drawn at
   * `temperature` (default: the slider; 0 = always the likeliest character). Does not change what the element shows.
   */
  async sample(prompt?: string, options: { temperature?: number; length?: number } = {}): Promise<string> {
    const p = prompt ?? this.ui?.prompt.value ?? DEFAULTS.prompt;
    if (typeof p !== 'string') throw new Error(`sample: prompt: expected a string, got ${typeof p}`);
    const temperature = options.temperature ?? this.temperature;
    checkTemperature('sample: temperature', temperature);
    const length = options.length ?? this.config?.sampleLength ?? DEFAULTS.sampleLength;
    if (!(Number.isInteger(length) && length >= 1 && length <= 10_000)) throw new Error(`sample: length: expected an integer 1..10000, got ${String(length)}`);
    const reply = await this.ask<'sample'>({ type: 'sample', prompt: p, temperature, length });
    return reply.text;
  }

  /** The slider's temperature; setting it (0 < t <= 2) moves the slider and the periodic samples. */
  get temperature(): number {
    return this.ui ? Number(this.ui.temperature.value) : DEFAULTS.temperature;
  }

  set temperature(value: number) {
    checkTemperature('temperature', value);
    if (!this.ui) return;
    this.ui.temperature.value = String(value);
    this.samplingChanged();
  }

  /** The prompt box's text; setting it changes what the periodic samples start from. */
  get prompt(): string {
    return this.ui ? this.ui.prompt.value : DEFAULTS.prompt;
  }

  set prompt(value: string) {
    if (typeof value !== 'string') throw new Error(`prompt: expected a string, got ${typeof value}`);
    if (!this.ui) return;
    this.ui.prompt.value = value;
    this.samplingChanged();
  }

  /** The sample shown now (the latest periodic one), or null. */
  get latestSample(): TextSample | null {
    return this.latest && { ...this.latest };
  }

  async liveBuffers(): Promise<number> {
    return (await this.ask<'liveBuffers'>({ type: 'liveBuffers' })).count;
  }

  /** 'loading' | 'ready' (paused) | 'running' | 'broken' | 'unsupported', or 'idle' before it is connected. */
  get status(): State {
    return this.state;
  }

  // ---- worker messages ----

  private send(message: TextRequest): void {
    this.link.send(message);
  }

  private ask<T extends TextReply['type']>(message: { type: 'sample' | 'liveBuffers' } & Record<string, unknown>): Promise<Reply_<T>> {
    return this.link.ask(message, () => (this.state === 'unsupported' ? 'WebGPU is not available in this browser' : 'rnn-text-demo is not connected'));
  }

  private receive(reply: TextReply): void {
    const ui = this.ui!;
    switch (reply.type) {
      case 'loading':
        ui.status.textContent = reply.message;
        ui.loadBar.style.width = `${Math.round(reply.fraction * 100)}%`;
        ui.loadWrap.hidden = false;
        return;
      case 'ready':
        ui.loadWrap.hidden = true;
        ui.adapter.textContent = reply.adapter;
        ui.note.textContent = `${reply.config.units} ${reply.config.cell} units over ${reply.vocabulary.length + 1} characters (one for any other); ` +
          `${reply.chars.toLocaleString('en')} characters of text as ${reply.sequences.toLocaleString('en')} sequences of ${reply.config.steps}; ` +
          `batch ${reply.config.batchSize}, Adam with learning rate ${reply.config.learningRate}, gradients clipped to norm 1. ` +
          `Chance is ln ${reply.vocabulary.length + 1} = ${Math.log(reply.vocabulary.length + 1).toFixed(2)} nats per character.`;
        this.setState('ready');
        this.dispatchEvent(new CustomEvent('ready', { detail: { adapter: reply.adapter, vocabulary: reply.vocabulary, chars: reply.chars } }));
        if (this.startWhenReady) {
          this.startWhenReady = false;
          this.send({ type: 'start' });
        }
        return;
      case 'running':
        if (this.state === 'ready' || this.state === 'running') this.setState(reply.running ? 'running' : 'ready');
        return;
      case 'progress':
        if (this.state === 'loading') return;
        this.last = { step: reply.step, epoch: reply.epoch, loss: reply.loss, seqPerSec: reply.seqPerSec };
        this.chart?.addLoss(reply.step, reply.loss);
        this.updateStats();
        this.dispatchEvent(new CustomEvent('progress', { detail: { ...this.last } }));
        return;
      case 'sample': {
        if (reply.id !== undefined) {
          this.link.settle(reply.id, reply);
          return;
        }
        if (this.state === 'loading') return;
        this.latest = { step: reply.step, prompt: reply.prompt, text: reply.text, temperature: reply.temperature };
        ui.samplePrompt.textContent = reply.prompt;
        ui.sampleText.textContent = reply.text;
        ui.sampleCaption.textContent = `written after ${reply.step.toLocaleString('en')} training steps, at temperature ${reply.temperature}`;
        this.dispatchEvent(new CustomEvent('sample', { detail: { ...this.latest } }));
        return;
      }
      case 'liveBuffers':
        this.link.settle(reply.id, reply);
        return;
      case 'failed':
        this.link.settle(reply.id, reply, reply.message);
        return;
      case 'unsupported':
        this.unsupported(reply.message);
        return;
      case 'error':
        this.fail(reply.message, reply.fatal);
        return;
      case 'disposed':
        return;
    }
  }

  private sampling(): Sampling {
    return { prompt: this.prompt, temperature: this.temperature };
  }

  private samplingChanged(): void {
    if (!this.ui) return;
    this.ui.temperatureValue.textContent = Number(this.ui.temperature.value).toFixed(2);
    if (this.link.connected && (this.state === 'ready' || this.state === 'running')) this.send({ type: 'sampling', sampling: this.sampling() });
  }

  // ---- state, errors, teardown ----

  private setState(state: State): void {
    this.state = state;
    const ui = this.ui;
    if (!ui) return;
    const usable = state === 'ready' || state === 'running';
    ui.start.disabled = state !== 'ready';
    ui.pause.disabled = state !== 'running';
    ui.reset.disabled = !(usable || state === 'broken');
    ui.sampleNow.disabled = !usable;
    ui.status.textContent = { idle: '', loading: 'Loading…', ready: 'Paused', running: 'Training', broken: 'Stopped by an error', unsupported: 'WebGPU unavailable' }[state];
  }

  private updateStats(): void {
    const ui = this.ui!;
    const p = this.last;
    ui.step.textContent = p ? p.step.toLocaleString('en') : '–';
    ui.epoch.textContent = p ? p.epoch.toFixed(2) : '–';
    ui.loss.textContent = p && Number.isFinite(p.loss) ? `${p.loss.toFixed(3)} (${(p.loss / Math.LN2).toFixed(2)} bits)` : '–';
    ui.speed.textContent = p && p.seqPerSec > 0 ? Math.round(p.seqPerSec * (this.config?.steps ?? 1)).toLocaleString('en') : '–';
  }

  private fail(message: string, fatal: boolean): void {
    const ui = this.ui;
    if (ui) {
      ui.errorText.textContent = message;
      ui.error.hidden = false;
      ui.loadWrap.hidden = true;
    }
    if (fatal) {
      this.setState('broken');
      this.link.rejectAll(message);
    }
    this.dispatchEvent(new CustomEvent('error', { detail: { message } }));
  }

  private unsupported(details: string): void {
    const ui = this.ui!;
    this.setState('unsupported');
    ui.main.hidden = true;
    ui.unsupported.hidden = false;
    ui.unsupportedDetails.textContent = `Details: ${details}`;
    this.link.terminate();
    this.link.rejectAll('WebGPU is not available in this browser');
    this.dispatchEvent(new CustomEvent('error', { detail: { message: `WebGPU is not available in this browser. ${details}` } }));
  }

  /** As <rnn-mnist-demo>: the worker frees model, text and device, reports its live buffers, and is terminated. */
  private dispose(): void {
    this.chart?.destroy();
    this.chart = undefined;
    this.state = 'idle';
    this.link.dispose('rnn-text-demo was removed', this);
  }

  private readConfig(): TextConfig {
    const problems: string[] = [];
    const integer = (name: string, fallback: number, min: number) => {
      const raw = this.getAttribute(name);
      if (raw === null || raw.trim() === '') return fallback;
      const v = Number(raw);
      if (Number.isInteger(v) && v >= min) return v;
      problems.push(`${name}="${raw}" (expected an integer of at least ${min}; using ${fallback || 'all'})`);
      return fallback;
    };
    const rawRate = this.getAttribute('learning-rate');
    let learningRate = DEFAULTS.learningRate;
    if (rawRate !== null && rawRate.trim() !== '') {
      const v = Number(rawRate);
      if (v > 0 && Number.isFinite(v)) learningRate = v;
      else problems.push(`learning-rate="${rawRate}" (expected a positive number; using ${learningRate})`);
    }
    const rawCell = this.getAttribute('cell');
    let cell: TextConfig['cell'] = DEFAULTS.cell;
    if (rawCell !== null && rawCell.trim() !== '') {
      if (rawCell === 'tanh' || rawCell === 'lstm' || rawCell === 'gru') cell = rawCell;
      else problems.push(`cell="${rawCell}" (expected tanh, lstm or gru; using ${cell})`);
    }
    const config: TextConfig = {
      textUrl: new URL(this.getAttribute('text-url') || DEFAULTS.textUrl, document.baseURI).href,
      textLimit: integer('text-limit', DEFAULTS.textLimit, 0),
      units: integer('units', DEFAULTS.units, 1),
      cell,
      steps: integer('steps', DEFAULTS.steps, 1),
      batchSize: integer('batch-size', DEFAULTS.batchSize, 1),
      learningRate,
      sampleLength: integer('sample-length', DEFAULTS.sampleLength, 1),
      seed: integer('seed', DEFAULTS.seed, 0),
    };
    if (problems.length) this.fail(`rnn-text-demo: ignored attribute ${problems.join(', ')}`, false);
    return config;
  }

  /** The initial temperature: the `temperature` attribute, checked. */
  private initialTemperature(): number {
    const raw = this.getAttribute('temperature');
    if (raw === null || raw.trim() === '') return DEFAULTS.temperature;
    const v = Number(raw);
    if (v > 0 && v <= MAX_TEMPERATURE) return v;
    queueMicrotask(() => this.fail(`rnn-text-demo: ignored attribute temperature="${raw}" (expected a number in (0, ${MAX_TEMPERATURE}]; using ${DEFAULTS.temperature})`, false));
    return DEFAULTS.temperature;
  }

  private render() {
    const root = this.shadowRoot!;
    root.innerHTML = `
      <style>${uplotCss}${STYLE}${TEXT_STYLE}</style>
      <div class="root" part="root">
        <header>
          <h2>A recurrent network learns to write English, one character at a time</h2>
          <span class="status" part="status"></span>
        </header>
        <div class="message" part="error" role="alert" hidden><button class="dismiss" title="Dismiss">×</button><span class="error-text"></span></div>
        <div class="message unsupported" part="unsupported" role="alert" hidden>${NO_WEBGPU_HELP}<div class="details"></div></div>
        <div class="grid" part="main">
          <section class="training">
            <h3>Training</h3>
            <div class="buttons">
              <button class="start primary" disabled>Start</button>
              <button class="pause" disabled>Pause</button>
              <button class="reset" disabled>Reset</button>
            </div>
            <div class="bar-wrap" hidden><div></div></div>
            <dl class="stats">
              <dt>step</dt><dd class="step">–</dd>
              <dt>epoch</dt><dd class="epoch">–</dd>
              <dt>training loss</dt><dd class="loss" part="loss">–</dd>
              <dt>characters / s</dt><dd class="speed">–</dd>
              <dt>adapter</dt><dd class="adapter">–</dd>
            </dl>
            <div class="chart"></div>
            <p class="note"></p>
          </section>
          <section class="writing">
            <h3>What it writes</h3>
            <div class="controls">
              <label for="prompt">prompt</label><input id="prompt" class="prompt" part="prompt" type="text" spellcheck="false">
              <label for="temperature">temperature</label><input id="temperature" class="temperature" part="temperature" type="range" min="0.05" max="${MAX_TEMPERATURE}" step="0.05"><output class="temperature-value"></output>
            </div>
            <div class="buttons"><button class="sample-now" disabled>Write now</button></div>
            <pre class="sample" part="sample" aria-live="polite"><b class="sample-prompt"></b><span class="sample-text"></span></pre>
            <p class="note sample-caption">A sample appears when the text is loaded, and again every few seconds while it trains.</p>
            <p class="note">At each step the RNN reads one character (one-hot) and a dense layer scores every character as the
              next one; training minimises the cross-entropy of the real next character, at every step. To write, the model
              reads the prompt and the last characters it wrote, and draws the next from softmax(scores / temperature):
              low temperatures pick the likeliest characters, high ones take more chances.</p>
          </section>
        </div>
      </div>`;
    const $ = <T extends Element = HTMLElement>(selector: string) => root.querySelector(selector) as T;
    const ui = {
      main: $('.grid'), status: $('.status'), error: $('[part=error]'), errorText: $('.error-text'),
      unsupported: $('[part=unsupported]'), unsupportedDetails: $('[part=unsupported] .details'),
      start: $<HTMLButtonElement>('.start'), pause: $<HTMLButtonElement>('.pause'), reset: $<HTMLButtonElement>('.reset'),
      loadWrap: $('.bar-wrap'), loadBar: $('.bar-wrap > div'),
      step: $('.step'), epoch: $('.epoch'), loss: $('.loss'), speed: $('.speed'), adapter: $('.adapter'), note: $('.training .note'),
      prompt: $<HTMLInputElement>('input.prompt'), temperature: $<HTMLInputElement>('input.temperature'), temperatureValue: $('.temperature-value'),
      sampleNow: $<HTMLButtonElement>('.sample-now'), samplePrompt: $('.sample-prompt'), sampleText: $('.sample-text'), sampleCaption: $('.sample-caption'),
    };
    ui.prompt.value = this.getAttribute('prompt') ?? DEFAULTS.prompt;
    ui.temperature.value = String(this.initialTemperature());
    ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(2);
    ui.start.onclick = () => this.start();
    ui.pause.onclick = () => this.pause();
    ui.reset.onclick = () => this.reset();
    ui.prompt.oninput = () => this.samplingChanged();
    ui.temperature.oninput = () => this.samplingChanged();
    ui.sampleNow.onclick = () => this.samplingChanged();
    $('.dismiss').onclick = () => (ui.error.hidden = true);
    this.chart = new TrainingChart($('.chart'), { accuracy: false, lossLabel: 'loss, nats per character' });
    return ui;
  }
}

function checkTemperature(field: string, value: unknown): void {
  if (!(typeof value === 'number' && value > 0 && value <= MAX_TEMPERATURE)) {
    throw new Error(`${field}: expected a number in (0, ${MAX_TEMPERATURE}], got ${String(value)}`);
  }
}

if (!customElements.get('rnn-text-demo')) customElements.define('rnn-text-demo', RnnTextDemo);

declare global {
  interface HTMLElementTagNameMap {
    'rnn-text-demo': RnnTextDemo;
  }
}
