package rule

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that every rule it
// accepts survives a round trip through Spec and Parse unchanged. The seed
// corpus in testdata/fuzz/FuzzParse holds one rule of each kind, windows
// and one input per error kind.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data, testNow)
		if err != nil {
			if err.Error() == "" {
				t.Error("Parse() returned an empty error")
			}
			return
		}
		again, err := json.Marshal(r.Spec())
		if err != nil {
			t.Fatalf("marshal %+v: %v", r, err)
		}
		back, err := Parse(again, testNow)
		if err != nil {
			t.Fatalf("Parse(%s) of an accepted rule's spec = %v", again, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Errorf("round trip through %s: %+v, want %+v", again, back, r)
		}
	})
}
