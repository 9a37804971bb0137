package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/routing"
	"github.com/parley-chat/parley/webhooks"
)

// bodyTypes are the request body types of every route, in a fixed order.
func bodyTypes() []reflect.Type {
	// Services that are only looked at for nil: every route is listed.
	s := &Server{Channels: new(channel.Service), Webhooks: new(webhooks.Service), Routing: new(routing.Service)}
	var out []reflect.Type
	for _, rt := range s.routes() {
		if rt.In != nil && !slices.Contains(out, reflect.TypeOf(rt.In)) {
			out = append(out, reflect.TypeOf(rt.In))
		}
	}
	slices.SortFunc(out, func(a, b reflect.Type) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// FuzzDecode checks the decoding of every route's request body (which
// picks one): a body is refused with an EINVALID or ETOOLARGE, or what it
// decodes to encodes to a body that decodes to the same value.
func FuzzDecode(f *testing.F) {
	types := bodyTypes()
	for i, typ := range types {
		// Each type's zero value, encoded, is a body it takes.
		b, err := json.Marshal(reflect.New(typ).Interface())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), b)
	}
	f.Add(uint8(0), []byte(`{"text": "a", "text": 1}`))
	f.Add(uint8(1), []byte(`{"remind_at": "2024-13-01T00:00:00Z"} {}`))
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		typ := types[int(pick)%len(types)]
		v := reflect.New(typ).Interface()
		if err := decode(httptest.NewRequest("POST", "/", bytes.NewReader(body)), v); err != nil {
			if code := parley.ErrorCode(err); code != parley.EINVALID && code != parley.ETOOLARGE {
				t.Fatalf("%s from %q: %v", typ, body, err)
			}
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s from %q does not encode: %v", typ, body, err)
		}
		w := reflect.New(typ).Interface()
		if err := decode(httptest.NewRequest("POST", "/", bytes.NewReader(again)), w); err != nil || !reflect.DeepEqual(v, w) {
			t.Fatalf("%s from %q: %+v encodes to %s, which decodes to %+v (%v)", typ, body, v, again, w, err)
		}
	})
}

// FuzzQuery checks the query parameter parsers: each refuses with an
// EINVALID naming the parameter, or returns a value that written back
// parses to the same value; and none panics on any query string.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{"limit=50&cursor=MTI6", "ids=1,%202,3", "ids=1,,2", "since=2024-12-05T10:00:00.123456789%2B01:00",
		"since=2024-12-05", "unread=true", "unread=yes", "n=-1", "n=9223372036854775808", "n=%zz", "a=1;b=2", "ids=" + strings.Repeat("9,", 100)} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = raw
		for _, name := range []string{"n", "ids", "since", "unread", "tags", "limit", "cursor"} {
			refusal := func(err error) {
				t.Helper()
				var pe *parley.Error
				if !errors.As(err, &pe) || pe.Code != parley.EINVALID || pe.Field != name {
					t.Fatalf("%s of %q: %v", name, raw, err)
				}
			}
			if n, err := queryInt(r, name); err != nil {
				refusal(err)
			} else if n < 0 || (n != 0 && r.URL.Query().Get(name) == "") {
				t.Fatalf("%s of %q: %d", name, raw, n)
			} else if m, err := queryInt(withQuery(name, strconv.FormatInt(n, 10)), name); err != nil || m != n {
				t.Fatalf("%s of %q: %d written back parses to %d (%v)", name, raw, n, m, err)
			}
			if ns, err := queryInts(r, name); err != nil {
				refusal(err)
			} else if len(ns) > 0 {
				parts := make([]string, len(ns))
				for i, n := range ns {
					if n < 0 {
						t.Fatalf("%s of %q: %v", name, raw, ns)
					}
					parts[i] = strconv.FormatInt(n, 10)
				}
				if ms, err := queryInts(withQuery(name, strings.Join(parts, ",")), name); err != nil || !slices.Equal(ms, ns) {
					t.Fatalf("%s of %q: %v written back parses to %v (%v)", name, raw, ns, ms, err)
				}
			}
			if tm, err := queryTime(r, name); err != nil {
				refusal(err)
			} else if !tm.IsZero() {
				if tm2, err := queryTime(withQuery(name, tm.Format(time.RFC3339Nano)), name); err != nil || !tm2.Equal(tm) {
					t.Fatalf("%s of %q: %v written back parses to %v (%v)", name, raw, tm, tm2, err)
				}
			}
			if _, err := queryBool(r, name); err != nil {
				refusal(err)
			}
			for _, s := range queryStrings(r, name) {
				if s != strings.TrimSpace(s) || strings.Contains(s, ",") {
					t.Fatalf("%s of %q: item %q", name, raw, s)
				}
			}
		}
	})
}

func withQuery(name, value string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.URL.RawQuery = url.Values{name: {value}}.Encode()
	return r
}
