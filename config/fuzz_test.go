package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no file makes Parse panic, that every failure is a
// located error with no File, and that every success validates. The seed
// corpus in testdata/fuzz/FuzzParse holds the example, small valid files and
// one file per error kind.
func FuzzParse(f *testing.F) {
	if example, err := os.ReadFile("../examples/imds.yaml"); err == nil {
		f.Add(example)
	}
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ud.bin"), []byte{0x1f, 0x8b, 0, 0xff}, 0o600); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data, dir, testNow)
		if err != nil {
			var located *Error
			if file != nil {
				t.Errorf("Parse() returned a File with error %v", err)
			}
			if !errors.As(err, &located) || !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Errorf("Parse() error %q does not name the file", err)
			}
			return
		}
		if len(file.Instances) == 0 {
			t.Fatal("Parse() succeeded without instances")
		}
		for i, in := range file.Instances {
			if err := Validate(in); err != nil {
				t.Errorf("instance %d of a parsed file: Validate() = %v", i, err)
			}
		}
	})
}
