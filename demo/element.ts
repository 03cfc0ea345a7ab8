// The embeddable <rnn-mnist-demo> element (issue 4). Placeholder.
export {};
