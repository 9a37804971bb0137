package metafake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/channel/meta/metafake"
)

const token = "tok"

// call makes a Graph call with a token and decodes the answer.
func call(t *testing.T, method, url, tok, contentType string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func errorCode(out map[string]any) float64 {
	e, _ := out["error"].(map[string]any)
	c, _ := e["code"].(float64)
	return c
}

// upload posts a file of size zeros to WhatsApp's media edge, streamed.
func upload(t *testing.T, f *metafake.Server, typ string, size int) (int, map[string]any) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("messaging_product", "whatsapp")
		mw.WriteField("type", typ)
		w, _ := mw.CreateFormFile("file", "f")
		_, err := io.CopyN(w, zeros{}, int64(size))
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	defer pr.Close()
	return call(t, "POST", f.URL()+"/v23.0/"+metafake.PhoneNumberID+"/media", token, mw.FormDataContentType(), pr)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestToken(t *testing.T) {
	f := metafake.New(token, "secret")
	defer f.Close()
	for _, tok := range []string{"", "wrong"} {
		if status, out := call(t, "GET", f.URL()+"/v23.0/"+metafake.PageID, tok, "", nil); status != 401 || errorCode(out) != 190 {
			t.Fatalf("token %q: %d %v", tok, status, out)
		}
	}
	if status, out := call(t, "GET", f.URL()+"/v23.0/"+metafake.PageID+"?fields=name&access_token="+token, "", "", nil); status != 200 || out["name"] != metafake.PageName {
		t.Fatalf("access_token parameter: %d %v", status, out)
	}
	if status, out := call(t, "GET", f.URL()+"/v23.0/424242", token, "", nil); status != 400 || errorCode(out) != 100 {
		t.Fatalf("an unknown object: %d %v", status, out)
	}
	if len(f.Calls()) != 2 {
		t.Fatalf("calls: %q", f.Calls())
	}
}

// TestMediaLimits: WhatsApp's upload limits by type.
func TestMediaLimits(t *testing.T) {
	f := metafake.New(token, "secret")
	defer f.Close()
	for _, tc := range []struct {
		typ   string
		limit int
	}{{"image/jpeg", 5 << 20}, {"audio/ogg", 16 << 20}, {"video/mp4", 16 << 20}, {"application/pdf", 100 << 20}} {
		if (testing.Short() || raceOn) && tc.limit > 5<<20 {
			continue // slow: the image's is enough to see the check work
		}
		if status, out := upload(t, f, tc.typ, tc.limit); status != 200 || out["id"] == "" {
			t.Fatalf("%s at the limit: %d %v", tc.typ, status, out)
		}
		if status, out := upload(t, f, tc.typ, tc.limit+1); status != 400 || errorCode(out) != 131053 {
			t.Fatalf("%s over the limit: %d %v", tc.typ, status, out)
		}
	}
	// An upload downloads again by its id, with the token.
	up := f.Uploads()[0]
	status, info := call(t, "GET", f.URL()+"/v23.0/"+up.ID, token, "", nil)
	if status != 200 || info["mime_type"] != "image/jpeg" || info["file_size"] != float64(5<<20) {
		t.Fatalf("media info: %d %v", status, info)
	}
	link := info["url"].(string)
	if status, _ := call(t, "GET", link, "", "", nil); status != 401 {
		t.Fatalf("a media link without the token: %d", status)
	}
}

func TestFailures(t *testing.T) {
	f := metafake.New(token, "secret")
	defer f.Close()
	send := func(id string) (int, map[string]any) {
		body := `{"messaging_product":"whatsapp","recipient":{"id":"1"},"messaging_type":"RESPONSE","to":"1","type":"text","text":{"body":"hi"},"message":{"text":"hi"}}`
		return call(t, "POST", f.URL()+"/v23.0/"+id+"/messages", token, "application/json", strings.NewReader(body))
	}
	f.Throttle(metafake.Messenger, 200*time.Millisecond, 3*time.Second)
	if status, out := send(metafake.PageID); status != 429 || errorCode(out) != 613 {
		t.Fatalf("throttled Messenger: %d %v", status, out)
	}
	if status, _ := send(metafake.PhoneNumberID); status != 200 {
		t.Fatalf("WhatsApp while Messenger is throttled: %d", status)
	}
	time.Sleep(250 * time.Millisecond)
	if status, _ := send(metafake.PageID); status != 200 {
		t.Fatalf("after the throttle: %d", status)
	}
	f.Fail(metafake.Failure{Code: 131047, Times: 2})
	for i, want := range []int{400, 400, 200} {
		if status, out := send(metafake.PhoneNumberID); status != want || (want == 400 && errorCode(out) != 131047) {
			t.Fatalf("call %d: %d %v", i, status, out)
		}
	}
	if n := len(f.Sent()); n != 3 {
		t.Fatalf("sent %d", n)
	}
}

func TestWebhooks(t *testing.T) {
	f := metafake.New(token, "secret")
	defer f.Close()
	var got [][]byte
	var sigs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "GET" {
			if r.URL.Query().Get("hub.verify_token") != "vt" {
				w.WriteHeader(403)
				return
			}
			fmt.Fprint(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		b, _ := io.ReadAll(r.Body)
		got = append(got, b)
		sigs = append(sigs, r.Header.Get("X-Hub-Signature-256"))
	}))
	defer srv.Close()
	if status, body := f.Verify(srv.URL+"/hook?x=1", "vt", "42"); status != 200 || body != "42" {
		t.Fatalf("verify: %d %q", status, body)
	}
	w := f.MessengerRead("1", time.UnixMilli(1700000000000))
	if f.Post(srv.URL, w) != 200 || f.PostForged(srv.URL, w) != 200 {
		t.Fatal("posting failed")
	}
	if sigs[0] != metafake.Sign(got[0], "secret") || sigs[1] == sigs[0] {
		t.Fatalf("signatures %q", sigs)
	}
	var p struct {
		Object string
		Entry  []struct {
			ID        string
			Messaging []struct {
				Read struct{ Watermark int64 }
			}
		}
	}
	if err := json.Unmarshal(got[0], &p); err != nil || p.Object != "page" || p.Entry[0].ID != metafake.PageID ||
		p.Entry[0].Messaging[0].Read.Watermark != 1700000000000 {
		t.Fatalf("read webhook %s: %v", got[0], err)
	}
}
