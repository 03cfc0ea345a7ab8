// Entry point of `npm run bench` (built to dist/bench.js). Placeholder until the benchmark lands (issue 5).
console.error('bench: not implemented yet');
process.exitCode = 1;
