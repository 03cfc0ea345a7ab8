// <rnn-mnist-demo>: Géron's MNIST sequence classifier (ch. 14) trained live in the page on WebGPU, a pad to draw a
// digit on, and the hidden state of the units across the 28 time steps.
//
// Embedding is one script and one element (the same script also defines <rnn-text-demo>, text-element.ts):
//   <script type="module" src=".../webgpu-rnn-demo.js"></script>
//   <rnn-mnist-demo units="150" batch-size="150" learning-rate="0.001" data-url="./mnist/"></rnn-mnist-demo>
//
// This file is the user interface (main thread). The GPU device, the data and the model live in a worker
// (worker.ts, started through worker-entry.ts, which Vite inlines into this bundle), so training never blocks drawing.
// The two talk through protocol.ts.
import { WorkerLink } from './worker-link.js';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { TrainingChart } from './chart.js';
import { DrawPad, toModelInput } from './draw.js';
import { HeatMap } from './heatmap.js';
import { NO_WEBGPU_HELP, STYLE } from './style.js';
import type { DemoConfig, DrawnDigit, Inspection, ProgressInfo, Reply, Request } from './protocol.js';
import TrainWorker from './worker-entry.ts?worker&inline';
// The bundle's one script defines both elements.
import './text-element.js';

/** The `progress` event's detail. */
export interface ProgressDetail {
  step: number;
  epoch: number;
  /** Mean training loss over the last chunk of steps. */
  loss: number;
  /** Test accuracy at the latest evaluation (on the first eval-size test images); NaN before the first. */
  accuracy: number;
  trainAccuracy: number;
  seqPerSec: number;
}

/** The latest prediction shown: for the drawing or for a test image. */
export interface ShownPrediction {
  digit: number;
  probs: number[];
  source: 'drawing' | 'test';
  label?: number;
}

type State = 'idle' | 'loading' | 'ready' | 'running' | 'broken' | 'unsupported';
type Current = { kind: 'drawing' } | { kind: 'test'; image: Uint8Array; label: number; index: number };
type Reply_<T extends Reply['type']> = Extract<Reply, { type: T }>;
type Asked = { type: 'predict' | 'inspect' | 'testImage' | 'liveBuffers' | 'drawDigit' };

const DEFAULTS = {
  units: 150, batchSize: 150, learningRate: 0.001, dataUrl: './mnist/', trainLimit: 0, testLimit: 0, evalSize: 1000, seed: 1,
  digitUnits: 64, digitSteps: 200, digitImages: 5000,
};

export class RnnMnistDemo extends HTMLElement {
  private readonly link = new WorkerLink<Request, Reply>();
  private state: State = 'idle';
  private config: DemoConfig | undefined;
  private startWhenReady = false;
  private accuracy = NaN;
  private last: ProgressInfo | undefined;
  private shown: ShownPrediction | null = null;
  private tearDown: (() => void) | undefined;

  // What the neurons panel shows, and the inspect requests for it: one in flight, the newest one waiting.
  private current: Current | null = null;
  private selection = 0;
  private inspecting = false;
  private wanted: { animate: boolean } | null = null;

  private ui: ReturnType<RnnMnistDemo['render']> | undefined;
  private pad: DrawPad | undefined;
  private heat: HeatMap | undefined;
  private drawnHeat: HeatMap | undefined;
  private chart: TrainingChart | undefined;
  /** The drawDigit in progress: its digit, and what settles it once its rows have all appeared. */
  private drawingDigit: { digit: number; drawn?: DrawnDigit; resolve: (rows: Float32Array) => void; reject: (error: Error) => void } | undefined;

  constructor() {
    super();
    this.attachShadow({ mode: 'open' });
  }

  connectedCallback(): void {
    // Moved within the document (removed and re-inserted in one task): keep everything running.
    if (this.tearDown) {
      this.tearDown = undefined;
      return;
    }
    if (this.link.connected || this.state === 'unsupported') return;
    this.current = null;
    this.shown = null;
    this.selection++;
    this.ui = this.render();
    const gpu = (navigator as Navigator & { gpu?: unknown }).gpu;
    if (!gpu) {
      this.unsupported('This browser has no navigator.gpu.');
      return;
    }
    this.config = this.readConfig();
    this.startWhenReady = this.hasAttribute('autostart');
    try {
      this.link.start(() => new TrainWorker({ name: 'rnn-mnist-demo' }), (reply) => this.receive(reply), (message, fatal) => this.fail(message, fatal));
    } catch (error) {
      this.fail(`Could not start the training worker: ${(error as Error).message}`, true);
      return;
    }
    this.setState('loading');
    this.send({ type: 'init', config: this.config });
  }

  disconnectedCallback(): void {
    // Wait a microtask: if the element is only being moved, connectedCallback cancels the teardown.
    const tearDown = () => {
      if (this.tearDown !== tearDown) return;
      this.tearDown = undefined;
      this.dispose();
    };
    this.tearDown = tearDown;
    queueMicrotask(tearDown);
  }

  // ---- the host's API ----

  /** Starts (or resumes) training; before the data has loaded, training starts as soon as it has. */
  start(): void {
    if (this.state === 'ready') this.send({ type: 'start' });
    else if (this.state === 'loading' || this.state === 'idle') this.startWhenReady = true;
  }

  pause(): void {
    this.startWhenReady = false;
    if (this.link.connected) this.send({ type: 'pause' });
  }

  /** A new untrained model (paused), with the attributes as they are now; reloads the data if its attributes changed. */
  reset(): void {
    if (!this.link.connected || !this.ui) return;
    this.startWhenReady = false;
    this.config = this.readConfig();
    this.accuracy = NaN;
    this.last = undefined;
    this.chart?.clear();
    this.ui.error.hidden = true;
    this.setState('loading');
    this.updateStats();
    this.send({ type: 'reset', config: this.config });
  }

  /**
   * Class probabilities (10) for a picture of a digit: ImageData of any size (prepared the MNIST way: fitted to
   * 20x20 and centred), or 784 values already in MNIST form (bytes 0..255 or floats 0..1, 0 = background).
   */
  async predict(picture: ImageData | Uint8Array | Float32Array): Promise<Float32Array> {
    const image = toModelInput(picture);
    const reply = await this.ask<'prediction'>({ type: 'predict', image });
    return reply.probs;
  }

  /**
   * "Draw a digit for me": the vector-to-sequence model draws `digit` (0..9) row by row in the element, training first
   * if it has not been trained yet (digit-steps steps, `digit-training` events). Resolves with the 28 x 28 values it
   * drew (about 0..1, row-major) once the last row has appeared; `digit-row` fires as each row appears.
   */
  async drawDigit(digit: number): Promise<Float32Array> {
    if (!(Number.isInteger(digit) && digit >= 0 && digit <= 9)) throw new Error(`drawDigit: digit: expected an integer 0..9, got ${String(digit)}`);
    if (this.drawingDigit) throw new Error(`drawDigit: the digit ${this.drawingDigit.digit} is being drawn; wait for it to finish`);
    if (!(this.state === 'ready' || this.state === 'running')) throw new Error(`drawDigit: the demo is not ready (status '${this.state}')`);
    const done = new Promise<Float32Array>((resolve, reject) => (this.drawingDigit = { digit, resolve, reject }));
    this.updateDigitButtons();
    const ui = this.ui!;
    ui.drawnCaption.textContent = `the model is about to draw a ${digit}`;
    this.ask<'digit'>({ type: 'drawDigit', digit }).then((drawn) => {
      const pending = this.drawingDigit;
      if (!pending || pending.digit !== digit) return;
      pending.drawn = drawn;
      ui.digitBarWrap.hidden = true;
      ui.drawnCaption.textContent = `a ${digit}, drawn one row per step (after ${drawn.step} training steps, MSE ${drawn.loss.toFixed(4)})`;
      const rowHeight = Math.max(1, Math.min(8, Math.floor(300 / drawn.units)));
      ui.drawnMap.style.height = `${Math.min(400, drawn.units * rowHeight)}px`;
      this.drawnHeat?.show(drawn.rows, drawn.states, drawn.units, true);
    }, (error: Error) => this.finishDigit(error));
    return done;
  }

  /** The worker's count of live GPU buffers (the runtime's liveBufferCount). */
  async liveBuffers(): Promise<number> {
    return (await this.ask<'liveBuffers'>({ type: 'liveBuffers' })).count;
  }

  /** What the prediction panel shows now, or null. */
  get prediction(): ShownPrediction | null {
    return this.shown && { ...this.shown, probs: [...this.shown.probs] };
  }

  /** 'loading' | 'ready' (paused) | 'running' | 'broken' | 'unsupported', or 'idle' before it is connected. */
  get status(): State {
    return this.state;
  }

  // ---- worker messages ----

  private send(message: Request): void {
    this.link.send(message);
  }

  private ask<T extends Reply['type']>(message: Asked & Record<string, unknown>): Promise<Reply_<T>> {
    return this.link.ask(message, () => (this.state === 'unsupported' ? 'WebGPU is not available in this browser' : 'rnn-mnist-demo is not connected'));
  }

  private receive(reply: Reply): void {
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
        ui.note.textContent = `${reply.config.units} tanh units, batch ${reply.config.batchSize}, Adam with learning rate ` +
          `${reply.config.learningRate}; ${reply.trainCount.toLocaleString('en')} training images; test accuracy on ` +
          `${reply.evalCount.toLocaleString('en')} test images.`;
        ui.mapCaption.textContent = `hidden state of the ${reply.config.units} units (rows) after each of the 28 steps (columns)`;
        this.setState('ready');
        this.dispatchEvent(new CustomEvent('ready', { detail: { adapter: reply.adapter } }));
        if (this.startWhenReady) {
          this.startWhenReady = false;
          this.send({ type: 'start' });
        }
        if (this.current) this.want(false);
        else void this.showTestImage();
        return;
      case 'running':
        if (this.state === 'ready' || this.state === 'running') this.setState(reply.running ? 'running' : 'ready');
        return;
      case 'progress':
        // After reset() the old model's last reports may still arrive; the new one's come after `ready`.
        if (this.state === 'loading') return;
        this.last = reply;
        this.chart?.addLoss(reply.step, reply.loss);
        this.updateStats();
        this.emitProgress();
        return;
      case 'evaluation':
        if (this.state === 'loading') return;
        this.accuracy = reply.accuracy;
        this.chart?.addAccuracy(reply.step, reply.accuracy);
        this.last = { ...(this.last ?? { epoch: 0, loss: NaN, trainAccuracy: NaN, seqPerSec: 0 }), step: reply.step };
        this.updateStats();
        this.emitProgress();
        // Watch the neurons change as the model learns.
        if (this.current && reply.step > 0) this.want(false);
        return;
      case 'prediction':
      case 'inspection':
      case 'testImage':
      case 'digit':
      case 'liveBuffers':
        this.link.settle(reply.id, reply);
        return;
      case 'failed':
        this.link.settle(reply.id, reply, reply.message);
        return;
      case 'digitTraining':
        ui.digitBarWrap.hidden = false;
        ui.digitBar.style.width = `${Math.min(100, Math.round((100 * reply.step) / reply.steps))}%`;
        ui.drawnCaption.textContent = `training the drawing model on ${reply.images.toLocaleString('en')} images: step ` +
          `${Math.min(reply.step, reply.steps)} of ${reply.steps}, MSE ${reply.loss.toFixed(4)}`;
        this.dispatchEvent(new CustomEvent('digit-training', { detail: { step: reply.step, steps: reply.steps, loss: reply.loss } }));
        return;
      case 'unsupported':
        this.unsupported(reply.message);
        return;
      case 'error':
        this.fail(reply.message, reply.fatal);
        return;
      case 'disposed':
        return; // handled by dispose()
    }
  }

  private emitProgress(): void {
    const p = this.last!;
    const detail: ProgressDetail = { step: p.step, epoch: p.epoch, loss: p.loss, accuracy: this.accuracy, trainAccuracy: p.trainAccuracy, seqPerSec: p.seqPerSec };
    this.dispatchEvent(new CustomEvent('progress', { detail }));
  }

  // ---- the neurons panel and the prediction ----

  private drawingChanged = (final: boolean) => {
    this.selection++;
    this.current = this.pad!.empty ? null : { kind: 'drawing' };
    this.ui!.hint.hidden = !this.pad!.empty;
    if (!this.current) this.showNothing();
    else this.want(final);
  };

  /** Asks for an inspection of the current picture; while one is in flight only the newest wish is kept. */
  private want(animate: boolean): void {
    this.wanted = { animate: animate || (this.wanted?.animate ?? false) };
    void this.inspectNext();
  }

  private async inspectNext(): Promise<void> {
    if (this.inspecting || !this.wanted || !(this.state === 'ready' || this.state === 'running')) return;
    const current = this.current;
    const { animate } = this.wanted;
    this.wanted = null;
    if (!current) return;
    const selection = this.selection;
    const image = current.kind === 'drawing' ? this.pad!.image() : current.image;
    this.inspecting = true;
    try {
      const reply = await this.ask<'inspection'>({ type: 'inspect', image });
      if (selection === this.selection) this.showInspection(image, reply, current, animate);
    } catch (error) {
      if (this.link.connected) this.fail(`Prediction failed: ${(error as Error).message}`, false);
    } finally {
      this.inspecting = false;
    }
    void this.inspectNext();
  }

  private async showTestImage(): Promise<void> {
    const selection = ++this.selection;
    try {
      const reply = await this.ask<'testImage'>({ type: 'testImage' });
      if (selection !== this.selection) return;
      this.current = { kind: 'test', image: reply.image, label: reply.label, index: reply.index };
      this.showInspection(reply.image, reply, this.current, true);
    } catch (error) {
      if (this.link.connected) this.fail(`Could not show a test image: ${(error as Error).message}`, false);
    }
  }

  private showInspection(image: Uint8Array, result: Inspection, source: Current, animate: boolean): void {
    const ui = this.ui!;
    this.heat?.show(image, result.states, result.units, animate);
    const rowHeight = Math.max(1, Math.min(8, Math.floor(300 / result.units)));
    ui.map.style.height = `${Math.min(400, result.units * rowHeight)}px`;
    const probs = Array.from(result.probs);
    const digit = probs.indexOf(Math.max(...probs));
    this.shown = { digit, probs, source: source.kind, label: source.kind === 'test' ? source.label : undefined };
    ui.digit.textContent = String(digit);
    ui.confidence.textContent = `${(probs[digit]! * 100).toFixed(1)}% sure`;
    ui.source.textContent = source.kind === 'test' ? `test image #${source.index} (label ${source.label})` : 'your drawing';
    ui.bars.forEach((bar, i) => {
      bar.fill.style.width = `${(probs[i]! * 100).toFixed(1)}%`;
      bar.value.textContent = `${(probs[i]! * 100).toFixed(1)}%`;
      bar.track.classList.toggle('top', i === digit);
    });
    ui.inputCaption.textContent = source.kind === 'test' ? `test image #${source.index}, label ${source.label}` : 'your drawing, as the model reads it (28 × 28)';
  }

  private showNothing(): void {
    const ui = this.ui!;
    this.shown = null;
    this.heat?.clear();
    ui.digit.textContent = '?';
    ui.confidence.textContent = '';
    ui.source.textContent = 'draw a digit in the box';
    ui.bars.forEach((bar) => {
      bar.fill.style.width = '0';
      bar.value.textContent = '';
      bar.track.classList.remove('top');
    });
    ui.inputCaption.textContent = '';
  }

  /** A row of the drawn digit appeared (t), or the replay ended (null). */
  private drawnStep = (t: number | null) => {
    const ui = this.ui;
    if (!ui) return; // the heat map's first clear(), while render() is still building the ui
    ui.drawnMarker.style.display = t === null ? 'none' : 'block';
    if (t !== null) ui.drawnMarker.style.left = `${t * 6}px`;
    ui.drawnStepLabel.textContent = t === null ? '' : `row ${t + 1} of 28`;
    const pending = this.drawingDigit;
    if (!pending?.drawn) return;
    if (t !== null) this.dispatchEvent(new CustomEvent('digit-row', { detail: { digit: pending.digit, row: t } }));
    else this.finishDigit(null);
  };

  private finishDigit(error: Error | null): void {
    const pending = this.drawingDigit;
    this.drawingDigit = undefined;
    if (this.ui) {
      this.ui.digitBarWrap.hidden = true;
      if (error && pending) this.ui.drawnCaption.textContent = `could not draw a ${pending.digit}: ${error.message}`;
    }
    this.updateDigitButtons();
    if (!pending) return;
    if (error) pending.reject(error);
    else pending.resolve(pending.drawn!.rows);
  }

  private updateDigitButtons(): void {
    const usable = this.state === 'ready' || this.state === 'running';
    for (const b of this.ui?.digitButtons ?? []) b.disabled = !usable || !!this.drawingDigit;
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
    ui.testImage.disabled = !usable;
    ui.replay.disabled = !usable;
    this.updateDigitButtons();
    ui.status.textContent = { idle: '', loading: 'Loading…', ready: 'Paused', running: 'Training', broken: 'Stopped by an error', unsupported: 'WebGPU unavailable' }[state];
    if (usable) void this.inspectNext();
  }

  private updateStats(): void {
    const ui = this.ui!;
    const p = this.last;
    ui.step.textContent = p ? p.step.toLocaleString('en') : '–';
    ui.epoch.textContent = p ? p.epoch.toFixed(2) : '–';
    ui.loss.textContent = p && Number.isFinite(p.loss) ? p.loss.toFixed(4) : '–';
    ui.accuracy.textContent = Number.isFinite(this.accuracy) ? `${(this.accuracy * 100).toFixed(1)}%` : '–';
    ui.speed.textContent = p && p.seqPerSec > 0 ? Math.round(p.seqPerSec).toLocaleString('en') : '–';
  }

  /** Shows an error in the element and fires `error`; a fatal one stops everything until reset(). */
  private fail(message: string, fatal: boolean): void {
    const ui = this.ui;
    if (ui) {
      ui.errorText.textContent = message;
      ui.error.hidden = false;
      ui.loadWrap.hidden = true;
    }
    if (fatal) {
      this.drawnHeat?.stop();
      this.finishDigit(new Error(message));
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
    this.finishDigit(new Error('WebGPU is not available in this browser'));
    this.link.rejectAll('WebGPU is not available in this browser');
    this.dispatchEvent(new CustomEvent('error', { detail: { message: `WebGPU is not available in this browser. ${details}` } }));
  }

  /** Frees the GPU (the worker destroys model, data and device and reports its live buffers), then ends the worker. */
  private dispose(): void {
    this.heat?.stop();
    this.drawnHeat?.stop();
    this.drawingDigit?.reject(new Error('rnn-mnist-demo was removed'));
    this.drawingDigit = undefined;
    this.chart?.destroy();
    this.chart = undefined;
    this.state = 'idle';
    this.link.dispose('rnn-mnist-demo was removed', this);
  }

  private readConfig(): DemoConfig {
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
    const config: DemoConfig = {
      units: integer('units', DEFAULTS.units, 1),
      batchSize: integer('batch-size', DEFAULTS.batchSize, 1),
      learningRate,
      // The worker has no page to resolve a relative URL against.
      dataUrl: new URL(this.getAttribute('data-url') || DEFAULTS.dataUrl, document.baseURI).href,
      trainLimit: integer('train-limit', DEFAULTS.trainLimit, 0),
      testLimit: integer('test-limit', DEFAULTS.testLimit, 0),
      evalSize: integer('eval-size', DEFAULTS.evalSize, 1),
      seed: integer('seed', DEFAULTS.seed, 0),
      digitUnits: integer('digit-units', DEFAULTS.digitUnits, 1),
      digitSteps: integer('digit-steps', DEFAULTS.digitSteps, 1),
      digitImages: integer('digit-images', DEFAULTS.digitImages, 1),
    };
    if (problems.length) this.fail(`rnn-mnist-demo: ignored attribute ${problems.join(', ')}`, false);
    return config;
  }

  private render() {
    const root = this.shadowRoot!;
    root.innerHTML = `
      <style>${uplotCss}${STYLE}</style>
      <div class="root" part="root">
        <header>
          <h2>A recurrent network reads MNIST row by row, trained live on WebGPU</h2>
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
              <dt>training loss</dt><dd class="loss">–</dd>
              <dt>test accuracy</dt><dd class="accuracy" part="accuracy">–</dd>
              <dt>sequences / s</dt><dd class="speed">–</dd>
              <dt>adapter</dt><dd class="adapter">–</dd>
            </dl>
            <div class="chart"></div>
            <p class="note"></p>
          </section>
          <section class="draw">
            <h3>Draw a digit</h3>
            <div class="pad-wrap"><canvas class="pad" part="pad" width="280" height="280" aria-label="Drawing pad: draw a digit with the mouse, a pen or a finger"></canvas><div class="hint">draw a digit here</div></div>
            <div class="buttons" style="margin: 8px 0 0"><button class="clear">Clear</button><button class="test-image" disabled>Random test image</button></div>
            <div class="prediction" part="prediction">
              <span class="digit">?</span>
              <div><div class="confidence"></div><div class="source note">draw a digit in the box</div></div>
            </div>
            <div class="probs" part="probabilities"></div>
          </section>
          <section class="neurons">
            <h3>Visualizing the neurons</h3>
            <div class="viz">
              <figure><canvas class="input" width="168" height="168" role="img" aria-label="The 28 by 28 image the network reads"></canvas><figcaption class="input-caption"></figcaption></figure>
              <figure><div class="mapwrap"><canvas class="map" part="heatmap" width="28" height="150" role="img" aria-label="Heat map of the hidden state: one column per time step, one row per unit"></canvas><div class="marker"></div></div>
                <figcaption class="map-caption"></figcaption></figure>
            </div>
            <div class="legend"><span>−1</span><span class="g"></span><span>+1</span><span class="step-label"></span></div>
            <div class="buttons" style="margin-top: 8px"><button class="replay" disabled>Replay the 28 steps</button></div>
            <p class="note">Each image is a sequence of 28 rows of 28 pixels. At step <i>t</i> the RNN reads row <i>t</i> and
              updates its state h<sub>t</sub> = tanh(x<sub>t</sub>·W<sub>x</sub> + h<sub>t−1</sub>·W<sub>h</sub> + b);
              the class is read from the last state.</p>
          </section>
          <section class="generate">
            <h3>Draw a digit for me</h3>
            <div class="digit-buttons" part="digit-buttons" role="group" aria-label="Digit to draw"></div>
            <div class="bar-wrap digit-bar" hidden><div></div></div>
            <div class="viz">
              <figure><canvas class="drawn" part="drawn-digit" width="168" height="168" role="img" aria-label="The digit the network draws, one row per step"></canvas><figcaption class="drawn-caption">pick a digit</figcaption></figure>
              <figure><div class="mapwrap"><canvas class="map drawn-map" part="drawn-heatmap" width="28" height="64" role="img" aria-label="Heat map of the drawing network's hidden state: one column per time step, one row per unit"></canvas><div class="marker drawn-marker"></div></div>
                <figcaption>its hidden state (rows: units) while drawing each row (columns)</figcaption></figure>
            </div>
            <div class="legend"><span class="drawn-step-label"></span></div>
            <p class="note">The other way round, vector to sequence: a second RNN gets the digit's class as a one-hot vector at
              every one of 28 steps, and at step <i>t</i> a dense layer turns its state h<sub>t</sub> into row <i>t</i> of the
              image. It learns (MSE) what the training images of each class share, the first time you ask, in this worker.</p>
          </section>
        </div>
      </div>`;
    const $ = <T extends Element = HTMLElement>(selector: string) => root.querySelector(selector) as T;
    const probs = $('.probs');
    const bars = Array.from({ length: 10 }, (_, i) => {
      const label = document.createElement('span');
      label.textContent = String(i);
      const track = document.createElement('span');
      track.className = 'p';
      const fill = document.createElement('div');
      fill.style.width = '0';
      track.append(fill);
      const value = document.createElement('span');
      probs.append(label, track, value);
      return { track, fill, value };
    });
    const ui = {
      main: $('.grid'), status: $('.status'), error: $('[part=error]'), errorText: $('.error-text'),
      unsupported: $('[part=unsupported]'), unsupportedDetails: $('[part=unsupported] .details'),
      start: $<HTMLButtonElement>('.start'), pause: $<HTMLButtonElement>('.pause'), reset: $<HTMLButtonElement>('.reset'),
      clear: $<HTMLButtonElement>('.clear'), testImage: $<HTMLButtonElement>('.test-image'), replay: $<HTMLButtonElement>('.replay'),
      loadWrap: $('.bar-wrap'), loadBar: $('.bar-wrap > div'),
      step: $('.step'), epoch: $('.epoch'), loss: $('.loss'), accuracy: $('.accuracy'), speed: $('.speed'), adapter: $('.adapter'), note: $('.training .note'),
      digit: $('.digit'), confidence: $('.confidence'), source: $('.source'), bars,
      input: $<HTMLCanvasElement>('canvas.input'), map: $<HTMLCanvasElement>('.neurons canvas.map'), marker: $('.neurons .marker'), stepLabel: $('.step-label'),
      drawn: $<HTMLCanvasElement>('canvas.drawn'), drawnMap: $<HTMLCanvasElement>('canvas.drawn-map'), drawnMarker: $('.drawn-marker'),
      drawnCaption: $('.drawn-caption'), drawnStepLabel: $('.drawn-step-label'), digitBarWrap: $('.digit-bar'), digitBar: $('.digit-bar > div'),
      digitButtons: Array.from({ length: 10 }, (_, d) => {
        const b = document.createElement('button');
        b.textContent = String(d);
        b.disabled = true;
        b.title = `Draw a ${d}`;
        b.onclick = () => void this.drawDigit(d).catch((error: Error) => {
          // A reset cancels the drawing on purpose; the caption says so.
          if (this.link.connected && !/cancelled/.test(error.message)) this.fail(`Could not draw a ${d}: ${error.message}`, false);
        });
        $('.digit-buttons').append(b);
        return b;
      }),
      inputCaption: $('.input-caption'), mapCaption: $('.map-caption'), hint: $('.hint'),
    };
    ui.start.onclick = () => this.start();
    ui.pause.onclick = () => this.pause();
    ui.reset.onclick = () => this.reset();
    ui.clear.onclick = () => {
      this.pad?.clear();
      this.drawingChanged(true);
    };
    ui.testImage.onclick = () => void this.showTestImage();
    ui.replay.onclick = () => this.heat?.play();
    $('.dismiss').onclick = () => (ui.error.hidden = true);
    this.pad = new DrawPad($<HTMLCanvasElement>('canvas.pad'), this.drawingChanged);
    this.heat = new HeatMap(ui.input, ui.map, (t) => {
      ui.marker.style.display = t === null ? 'none' : 'block';
      // The map is 168 CSS pixels for 28 steps.
      if (t !== null) ui.marker.style.left = `${t * 6}px`;
      ui.stepLabel.textContent = t === null ? '' : `step t = ${t}`;
    });
    this.drawnHeat = new HeatMap(ui.drawn, ui.drawnMap, this.drawnStep, 'write');
    this.chart = new TrainingChart($('.chart'));
    return ui;
  }
}

if (!customElements.get('rnn-mnist-demo')) customElements.define('rnn-mnist-demo', RnnMnistDemo);

declare global {
  interface HTMLElementTagNameMap {
    'rnn-mnist-demo': RnnMnistDemo;
  }
}
