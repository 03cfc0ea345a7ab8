// The demo page: query parameters named like the element's attributes set them (handy for trying a small model on
// a slow adapter: ?units=32&batch-size=50&train-limit=5000&autostart), then the element is defined.
const ATTRIBUTES = ['units', 'batch-size', 'learning-rate', 'data-url', 'train-limit', 'test-limit', 'eval-size', 'seed', 'autostart'];

const element = document.querySelector('rnn-mnist-demo');
const params = new URLSearchParams(location.search);
for (const name of ATTRIBUTES) {
  const value = params.get(name);
  if (element && value !== null) element.setAttribute(name, value);
}
// Imported only now, so that the element reads the attributes above when it connects.
void import('./element.js');

export {};
