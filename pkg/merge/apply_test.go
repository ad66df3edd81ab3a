package merge

import "testing"

// Each table in testdata is a list of Apply cases; see harness_test.go for
// the format.

func TestApplyMerge(t *testing.T) { runCaseFile(t, "merge.yaml") }

func TestApplyProbes(t *testing.T) { runCaseFile(t, "probes.yaml") }

func TestApplyPrometheus(t *testing.T) { runCaseFile(t, "prometheus.yaml") }

func TestApplyPostProcess(t *testing.T) { runCaseFile(t, "postprocess.yaml") }
