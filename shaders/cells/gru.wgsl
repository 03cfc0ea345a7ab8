// The GRU cell's step epilogue (src/cells/gru.ts, both forms): not written yet. The recurrence kernels run one gate
// block and one state for now; GRU's three blocks (r, z, n), its reset-after n gate (zx and zh apart) and the
// reset-before form's second product (r⊙h)·Un come with the multi-gate kernels, the next stage of issue 12.
// RnnSchedule refuses these cells until then; their float64 references (gru.ts) are complete and gradient-checked.
