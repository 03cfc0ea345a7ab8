// The one worker script of both demo elements, inlined once into the bundle (each element's worker would otherwise
// carry its own copy of the runtime): the worker's name, given by the element that starts it, picks which one it is.
import { installTextWorker } from './text-worker.js';
import { installMnistWorker } from './worker.js';

if ((self as unknown as { name: string }).name === 'rnn-text-demo') installTextWorker();
else installMnistWorker();
