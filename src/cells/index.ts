// The cells by name: what a layer config's `cell` field selects (cells/cell.ts says what a cell is), and with GRU's
// resetAfter option, which GRU.
import { InputError } from '../errors.js';
import type { Cell } from './cell.js';
import { gru, gruResetBefore } from './gru.js';
import { lstm } from './lstm.js';
import { tanh } from './tanh.js';

export type { Cell, CellParam, CellParams, CellReference } from './cell.js';
export { gru, gruResetBefore } from './gru.js';
export { lstm } from './lstm.js';
export { tanh } from './tanh.js';

/** By the names a config gives (`cell: 'gru'`): 'gru' is the reset-after form; resetAfter: false selects gruResetBefore. */
export const cells: Readonly<Record<string, Cell>> = { tanh, lstm, gru };

/** A cell's options in a layer config that change what it computes (forgetBias only initialises: model/init.ts). */
export interface CellOptions {
  resetAfter?: boolean; // gru only; true by default
}

/** The cell called `name` (with `options`); an InputError naming `field` for any other name. */
export function cellOf(name: unknown, field = 'cell', options: CellOptions = {}): Cell {
  if (typeof name === 'string' && Object.hasOwn(cells, name)) return name === 'gru' && options.resetAfter === false ? gruResetBefore : cells[name]!;
  throw new InputError(field, `one of ${Object.keys(cells).map((n) => `'${n}'`).join(', ')}`,
    typeof name === 'string' ? `'${name}'` : String(name));
}
