package parallel

import (
	"fmt"
	"runtime"
	"testing"
)

func TestForEach(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4} {
		for _, n := range []int{0, 1, 2, 7, 1000} {
			t.Run(fmt.Sprintf("procs=%d/n=%d", procs, n), func(t *testing.T) {
				runtime.GOMAXPROCS(procs)
				got := make([]int, n)
				ForEach(n, func(i int) { got[i] = i * i })
				for i, v := range got {
					if v != i*i {
						t.Fatalf("slot %d = %d, want %d", i, v, i*i)
					}
				}
			})
		}
	}
}

// TestForEachPanic: the panic reaches the caller, and it is the lowest
// index's when several items panic.
func TestForEachPanic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	tests := []struct {
		name   string
		procs  int
		panics map[int]bool
		want   any
	}{
		{"sequential", 1, map[int]bool{3: true}, 3},
		{"parallel, one", 2, map[int]bool{50: true}, 50},
		{"parallel, first of all", 4, map[int]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true}, 0},
		{"parallel, far apart", 2, map[int]bool{97: true, 98: true, 40: true}, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GOMAXPROCS(tc.procs)
			got := func() (v any) {
				defer func() { v = recover() }()
				ForEach(100, func(i int) {
					if tc.panics[i] {
						panic(i)
					}
				})
				return nil
			}()
			if got != tc.want {
				t.Errorf("recovered %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(2)
	for n, want := range map[int]int{0: 1, 1: 1, 2: 2, 100: 2} {
		if got := Workers(n); got != want {
			t.Errorf("Workers(%d) = %d, want %d", n, got, want)
		}
	}
}
