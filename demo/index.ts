// The demo page: query parameters named like the MNIST element's attributes set them (handy for trying a small model
// on a slow adapter: ?units=32&batch-size=50&train-limit=5000&autostart), and the text element's with `text.` before
// them (?text.units=32&text.steps=16&text.autostart); then the elements are defined.
const ATTRIBUTES = ['units', 'batch-size', 'learning-rate', 'data-url', 'train-limit', 'test-limit', 'eval-size', 'seed', 'autostart',
  'digit-units', 'digit-steps', 'digit-images'];
const TEXT_ATTRIBUTES = ['text-url', 'text-limit', 'units', 'cell', 'steps', 'batch-size', 'learning-rate', 'sample-length', 'seed', 'prompt', 'temperature', 'autostart'];

const params = new URLSearchParams(location.search);
const pass = (element: Element | null, names: string[], prefix: string) => {
  for (const name of names) {
    const value = params.get(prefix + name);
    if (element && value !== null) element.setAttribute(name, value);
  }
};
pass(document.querySelector('rnn-mnist-demo'), ATTRIBUTES, '');
pass(document.querySelector('rnn-text-demo'), TEXT_ATTRIBUTES, 'text.');
// Imported only now, so that the element reads the attributes above when it connects.
void import('./element.js');

export {};
