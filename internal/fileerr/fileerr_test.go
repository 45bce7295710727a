package fileerr

import "testing"

func TestError(t *testing.T) {
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{File: "f.env", Line: 3, Setting: "EDGE_SITE", Msg: "unknown key"}, "f.env:3: EDGE_SITE: unknown key"},
		{&Error{File: "c.yml", Line: 1, Setting: `field "poll_interval"`, Msg: "not a duration"}, `c.yml:1: field "poll_interval": not a duration`},
		{&Error{File: "c.yml", Line: 2, Msg: "more than one YAML document"}, "c.yml:2: more than one YAML document"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
