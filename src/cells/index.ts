// The cells by name: what a layer config's `cell` field selects (cells/cell.ts says what a cell is).
import { InputError } from '../errors.js';
import type { Cell } from './cell.js';
import { tanh } from './tanh.js';

export type { Cell, CellParam, CellReference } from './cell.js';
export { tanh } from './tanh.js';

export const cells: Readonly<Record<string, Cell>> = { tanh };

/** The cell called `name`; an InputError naming `field` for any other. */
export function cellOf(name: unknown, field = 'cell'): Cell {
  if (typeof name === 'string' && Object.hasOwn(cells, name)) return cells[name]!;
  throw new InputError(field, `one of ${Object.keys(cells).map((n) => `'${n}'`).join(', ')}`,
    typeof name === 'string' ? `'${name}'` : String(name));
}
