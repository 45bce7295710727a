package promlint

import (
	"slices"
	"testing"
)

func TestProblemsKeepOnlyOthersThanNodeExporterNames(t *testing.T) {
	lint := `node_memory_MemAvailable_bytes metric names should be written in 'snake_case' not 'camelCase'
node_memory_SReclaimable_bytes metric names should be written in 'snake_case' not 'camelCase'
edge_unit_MemoryBytes metric names should be written in 'snake_case' not 'camelCase'
node_memory_MemTotal_bytes counter metrics should have "_total" suffix

`
	want := []string{
		"edge_unit_MemoryBytes metric names should be written in 'snake_case' not 'camelCase'",
		`node_memory_MemTotal_bytes counter metrics should have "_total" suffix`,
	}
	if got := Problems(lint); !slices.Equal(got, want) {
		t.Fatalf("Problems = %q, want %q", got, want)
	}
}
