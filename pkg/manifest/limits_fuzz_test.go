package manifest

import (
	"errors"
	"path/filepath"
	"testing"
)

// FuzzCheck reads arbitrary bytes within small limits. Check and
// SplitLimited must agree (Check only drops the requirement that documents
// be objects), a limit error must say which setting raises it, and input
// accepted within small limits must be accepted within the defaults.
func FuzzCheck(f *testing.F) {
	for _, dir := range []string{"roundtrip", "changed", "errors", "limits"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
		for _, name := range files {
			f.Add(read(f, name), uint8(8), uint16(100))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, depth uint8, aliases uint16) {
		l := Limits{MaxDepth: int(depth%64) + 1, MaxAliasExpansion: int64(aliases) + 1}
		checkErr := Check("fuzz.yaml", data, l)
		_, splitErr := SplitLimited("fuzz.yaml", data, l)
		if splitErr == nil && checkErr != nil {
			t.Fatalf("SplitLimited accepts what Check refuses: %v", checkErr)
		}
		if errors.Is(checkErr, ErrLimit) {
			var me *Error
			if !errors.As(checkErr, &me) || me.Setting == "" {
				t.Fatalf("limit error without its setting: %v", checkErr)
			}
		}
		if checkErr == nil {
			if err := Check("fuzz.yaml", data, Limits{}); err != nil {
				t.Fatalf("accepted within depth %d and %d aliases, refused within the defaults: %v", l.MaxDepth, l.MaxAliasExpansion, err)
			}
		}
	})
}
