// Entry point of `npm run train` (built to dist/train.js).
import { main } from './train.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    console.error(`train: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
