package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestKillNineLosesNothing loads a server with sends from many sockets,
// kills it with SIGKILL in the middle (no shutdown of any kind, as a crash
// would), starts it again on the same data and checks the promise of the
// write path: every message whose send was acknowledged is stored, exactly
// once; sending the unacknowledged ones again with their client ids stores
// each once at most. On SQLite (synchronous=FULL) and on PostgreSQL.
func TestKillNineLosesNothing(t *testing.T) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			opt := ServerOptions{Dir: t.TempDir()}
			if db == "postgres" {
				base := os.Getenv("PARLEY_TEST_POSTGRES")
				if base == "" {
					if os.Getenv("CI") != "" {
						t.Fatal("PARLEY_TEST_POSTGRES is not set; CI must run the PostgreSQL tests")
					}
					t.Skip("PARLEY_TEST_POSTGRES is not set")
				}
				url, drop, err := FreshSchema(ctx, base)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { drop() })
				opt.Database = url
			}
			killNine(t, ctx, opt)
		})
	}
}

func killNine(t *testing.T, ctx context.Context, opt ServerOptions) {
	srv := startServerWith(t, ctx, opt)
	a := &api{base: srv.URL, hc: &http.Client{Transport: newTransport(64), Timeout: time.Minute}}
	admin, err := a.admin(ctx, Options{}, "crash", "crash-password")
	if err != nil {
		t.Fatal(err)
	}
	const users = 12
	tokens := make([]string, users)
	ids := make([]int64, users)
	for i := range users {
		if ids[i], tokens[i], err = a.createUser(ctx, admin, fmt.Sprintf("u%d@crash.test", i), fmt.Sprint("User ", i), "crash-password", "member"); err != nil {
			t.Fatal(err)
		}
	}
	var conv struct {
		ID int64 `json:"id"`
	}
	if err := a.call(ctx, "POST", "/api/v1/conversations/group", tokens[0], map[string]any{"title": "crash", "user_ids": ids[1:]}, &conv); err != nil {
		t.Fatal(err)
	}

	// Every user sends as fast as the server acknowledges, up to 32 sends
	// in flight, until the server dies.
	var mu sync.Mutex
	acked := map[string]bool{} // client ids
	sent := map[string]bool{}
	var wg sync.WaitGroup
	hc := &http.Client{Transport: newTransport(0)}
	for i := range users {
		ws, err := dialWS(ctx, hc, strings.Replace(srv.URL, "http", "ws", 1)+"/api/v1/ws", http.Header{"Authorization": {"Bearer " + tokens[i]}})
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		slots := make(chan struct{}, 32)
		reqs := sync.Map{}          // req → client id
		dead := make(chan struct{}) // the socket ended
		wg.Add(2)
		go func() { // reader
			defer wg.Done()
			defer close(dead)
			for {
				_, data, err := ws.Read(ctx)
				if err != nil {
					return
				}
				it := arrayIter{b: data}
				var f frame
				for {
					el, ok, err := it.next()
					if err != nil || !ok {
						break
					}
					if parseFrame(el, &f) != nil || (string(f.typ) != `"ack"` && string(f.typ) != `"error"`) {
						continue
					}
					if cid, ok := reqs.Load(f.req); ok {
						if string(f.typ) == `"ack"` {
							mu.Lock()
							acked[cid.(string)] = true
							mu.Unlock()
						}
						<-slots
					}
				}
			}
		}()
		go func() { // sender
			defer wg.Done()
			for k := int64(1); ; k++ {
				select {
				case slots <- struct{}{}:
				case <-dead:
					return
				}
				cid := fmt.Sprintf("%d.%d", i, k)
				reqs.Store(k, cid)
				mu.Lock()
				sent[cid] = true
				mu.Unlock()
				frame := fmt.Sprintf(`{"type":"send","req":%d,"conversation_id":%d,"client_id":%q,"text":"message %s"}`, k, conv.ID, cid, cid)
				if ws.Write(ctx, websocket.MessageText, []byte(frame)) != nil {
					return
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	srv.Kill()
	wg.Wait()
	mu.Lock()
	nAcked, nSent := len(acked), len(sent)
	mu.Unlock()
	if nAcked < 100 {
		t.Fatalf("only %d sends were acknowledged before the kill: the test did not load the server", nAcked)
	}

	srv = startServerWith(t, ctx, opt)
	a.base = srv.URL
	stored := storedClientIDs(t, ctx, a, tokens[0], conv.ID)
	for cid := range acked {
		if stored[cid] != 1 {
			t.Errorf("acknowledged message %s is stored %d times", cid, stored[cid])
		}
	}
	for cid, n := range stored {
		if n != 1 || !sent[cid] {
			t.Errorf("message %s is stored %d times (sent: %v)", cid, n, sent[cid])
		}
	}
	atRestart := len(stored)
	// The clients send what was not acknowledged again, with the same
	// client ids: what was stored is answered, not stored twice.
	retried := 0
	for cid := range sent {
		if acked[cid] {
			continue
		}
		var i int
		fmt.Sscanf(cid, "%d.", &i)
		if err := a.call(ctx, "POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv.ID), tokens[i],
			map[string]any{"client_id": cid, "text": "message " + cid}, nil); err != nil {
			t.Fatalf("sending %s again: %v", cid, err)
		}
		retried++
	}
	stored = storedClientIDs(t, ctx, a, tokens[0], conv.ID)
	for cid := range sent {
		if stored[cid] != 1 {
			t.Errorf("after the retries, message %s is stored %d times", cid, stored[cid])
		}
	}
	t.Logf("%d sent, %d acknowledged before the kill, %d stored at the restart, %d sent again", nSent, nAcked, atRestart, retried)
	if err := srv.Stop(); err != nil {
		t.Error(err)
	}
}

// startServerWith starts the test binary's server with opt.
func startServerWith(t *testing.T, ctx context.Context, opt ServerOptions) *Server {
	t.Helper()
	buildServer(t)
	srv, err := StartServer(ctx, build.exe, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-srv.exit:
		default:
			srv.Stop()
		}
	})
	return srv
}

// storedClientIDs counts the conversation's messages by client id.
func storedClientIDs(t *testing.T, ctx context.Context, a *api, token string, conv int64) map[string]int {
	t.Helper()
	out := map[string]int{}
	var before int64
	for {
		var page struct {
			Messages []struct {
				Seq      int64  `json:"seq"`
				ClientID string `json:"client_id"`
			} `json:"messages"`
		}
		path := fmt.Sprintf("/api/v1/conversations/%d/messages?limit=200", conv)
		if before > 0 {
			path += fmt.Sprintf("&before=%d", before)
		}
		if err := a.call(ctx, "GET", path, token, nil, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Messages) == 0 {
			return out
		}
		for _, m := range page.Messages {
			if m.ClientID != "" {
				out[m.ClientID]++
			}
		}
		before = page.Messages[0].Seq
	}
}
