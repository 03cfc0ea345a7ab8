// The LSTM cell's step epilogue (src/cells/lstm.ts): not written yet. The recurrence kernels run one gate block and
// one state for now; LSTM's four blocks (i, f, g, o of one [B, 4H] product) and its second state c come with the
// multi-gate kernels, the next stage of issue 12. RnnSchedule refuses this cell until then; its float64 reference
// (lstm.ts) is complete and gradient-checked.
