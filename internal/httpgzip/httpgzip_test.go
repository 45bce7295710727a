package httpgzip

import "testing"

func TestAccepts(t *testing.T) {
	for header, want := range map[string]bool{
		"":                    false,
		"gzip":                true,
		"GZIP":                true,
		"br, gzip;q=0.5":      true,
		"gzip;q=0":            false,
		"*":                   true,
		"*, gzip;q=0":         false,
		"identity":            false,
		"x-gzip":              true,
		"deflate, *;q=0":      false,
		"gzip;q=bogus":        false,
		" gzip ; q=1.0 , br ": true,
	} {
		if got := Accepts(header); got != want {
			t.Errorf("Accepts(%q) = %v, want %v", header, got, want)
		}
	}
}
