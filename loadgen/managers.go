package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// The visitor mode's managers (Options.Managers) keep the support inbox
// open, as docs/inbox.md's managers do: users with the chat settings
// right, who hear every dialog of every project, on the staff socket,
// connected to no dialog. The web app's list (web/app/livechat.ts, which
// the inbox's rows share) takes a customer's new message from whichever
// comes first: the message.created of the message (onMessage: last
// message, activity, waiting, resort) or a dialog.updated whose
// last_message it is (put). For every visitor message and every manager
// the bench notes the first of the two to arrive: the moment that
// manager's list showed it. Seeded dialogs (Options.Dialogs) give the
// list a backlog to be live across.

// manager is one simulated manager.
type manager struct {
	idx   int
	id    int64
	token string
	ws    *websocket.Conn
	// Owned by the socket's reader.
	seen        [][]uint8 // per visitor, per message: seenCreated | seenDialog
	lastSeq     map[int64]int64
	lat         []int64 // the first of the two events, per message
	latExisting []int64 // the same for messages in dialogs already open (not a visitor's first)
	latSteady   []int64 // the same from each visitor's third message on: every dialog opened a round ago
	createdLat  []int64 // message.created alone
	dialogLat   []int64 // dialog.updated carrying it as last_message, alone
	viaCreated  int64   // messages whose message.created came first
	viaDialog   int64   // messages whose dialog.updated came first
	updates     int64   // dialog.updated frames carrying a visitor message
}

const (
	seenCreated uint8 = 1 << iota
	seenDialog
)

// seededName is how the customers of seeded dialogs are named: not
// visitorName, so the consultants leave their dialogs alone.
const seededName = "Customer "

// createManagers creates the managers: agents of a group with the chat
// settings right (how an organisation makes managers), in no project.
func (r *vrunner) createManagers(ctx context.Context, admin string) error {
	o := r.opt
	if o.Managers == 0 {
		return nil
	}
	r.mgrs = make([]*manager, o.Managers)
	if err := forEach(ctx, o.Managers, o.Parallel, func(ctx context.Context, i int) error {
		m := &manager{idx: i, lastSeq: map[int64]int64{}}
		var err error
		m.id, m.token, err = r.api.createUser(ctx, admin, fmt.Sprintf("bench-%s-manager-%d@example.com", r.runID, i),
			fmt.Sprintf("Manager %d", i), r.pass, "agent")
		r.mgrs[i] = m
		return err
	}); err != nil {
		return fmt.Errorf("creating managers: %w", err)
	}
	ids := make([]int64, len(r.mgrs))
	for i, m := range r.mgrs {
		ids[i] = m.id
	}
	if err := r.api.call(ctx, "POST", "/api/v1/groups", admin, map[string]any{"name": "Bench managers " + r.runID,
		"rights": []string{"chat.settings"}, "member_ids": ids}, nil); err != nil {
		return fmt.Errorf("creating the managers' group: %w", err)
	}
	return nil
}

// connectManagers opens the managers' staff sockets. It runs once the
// visitors exist: a manager keeps a slot for each of their messages.
func (r *vrunner) connectManagers(ctx context.Context) error {
	for _, m := range r.mgrs {
		m.seen = make([][]uint8, len(r.vis))
		for i, v := range r.vis {
			m.seen[i] = make([]uint8, len(v.sends))
		}
		ws, err := r.open(ctx, r.base+"/api/v1/ws?client=bench&version=1", http.Header{"Authorization": {"Bearer " + m.token}})
		if err != nil {
			return fmt.Errorf("connecting a manager: %w", err)
		}
		m.ws = ws
		r.readers.Add(1)
		go r.readManager(m)
	}
	return nil
}

// readManager handles a manager's staff socket: the events that put a
// visitor's message in the list, and the seeded dialogs' messages.
func (r *vrunner) readManager(m *manager) {
	r.readFrames(m.ws, func(f *frame, now int64) {
		var cid []byte
		var how uint8
		switch string(f.typ) {
		case `"message.created"`:
			_, c, err := messageFields(f.data)
			if err != nil {
				r.st.fail("bad_frame", 1)
				return
			}
			if f.seq <= m.lastSeq[f.conv] {
				r.st.fail("duplicate_delivery", 1)
				return
			}
			m.lastSeq[f.conv] = f.seq
			if len(c) > 0 && c[0] == 's' {
				r.seedGot.Add(1)
				return
			}
			cid, how = c, seenCreated
		case `"dialog.updated"`:
			cid, how = dialogLastClientID(f.data), seenDialog
		default:
			return
		}
		if len(cid) < 2 || cid[0] != 'v' {
			return // an answer, a system line, a seeded dialog
		}
		i, k, ok := parseClientID(cid[1:])
		if !ok || i >= len(r.vis) || k >= len(r.vis[i].sends) {
			return
		}
		t := r.vis[i].sends[k].sentAt.Load()
		s := &m.seen[i][k]
		if how == seenDialog {
			m.updates++
		}
		if *s&how != 0 {
			return // a later dialog.updated with the same last message
		}
		if t > 0 {
			if how == seenCreated {
				m.createdLat = append(m.createdLat, now-t)
			} else {
				m.dialogLat = append(m.dialogLat, now-t)
			}
		}
		first := *s == 0
		*s |= how
		if !first {
			return
		}
		if t > 0 {
			m.lat = append(m.lat, now-t)
			if k > 0 {
				m.latExisting = append(m.latExisting, now-t)
			}
			if k > 1 {
				m.latSteady = append(m.latSteady, now-t)
			}
		}
		if how == seenCreated {
			m.viaCreated++
		} else {
			m.viaDialog++
		}
		r.managerGot.Add(1)
	})
}

// dialogLastClientID returns the client id of a dialog's last message
// (the data of dialog.updated), or nil.
func dialogLastClientID(b []byte) []byte {
	it := objIter{b: b}
	for {
		key, val, ok, err := it.next()
		if err != nil || !ok {
			return nil
		}
		if string(key) == "last_message" {
			_, cid, _ := messageFields(val)
			return cid
		}
	}
}

// seedDialogs opens Options.Dialogs dialogs before the run, each with one
// customer message through the widget API, as a backlog for the list. The
// customers open no socket. It then waits until every manager heard of
// every one, so that the seeding's fan-out is over before the measurement.
func (r *vrunner) seedDialogs(ctx context.Context, rep *VisitorReport) error {
	n := r.opt.Dialogs
	if n == 0 {
		return nil
	}
	t0 := time.Now()
	r.progress("seeding %d dialogs (a customer message each)", n)
	var done atomic.Int64
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	finished := make(chan struct{})
	go func() {
		for {
			select {
			case <-finished:
				return
			case <-tick.C:
				d := done.Load()
				r.progress("  %d dialogs seeded (%.0f/s)", d, float64(d)/time.Since(t0).Seconds())
			}
		}
	}()
	err := forEach(ctx, n, r.opt.Parallel, func(ctx context.Context, i int) error {
		var out struct {
			Token string `json:"token"`
		}
		if err := r.widget.call(ctx, "POST", "/api/v1/widget/sessions", "", map[string]any{"project": r.key,
			"name": seededName + strconv.Itoa(i), "page_url": benchOrigin + "/help"}, &out); err != nil {
			return err
		}
		if err := r.widget.call(ctx, "POST", "/api/v1/widget/messages", out.Token,
			map[string]string{"client_id": "s" + strconv.Itoa(i), "text": "seeded customer message " + strconv.Itoa(i)}, nil); err != nil {
			return err
		}
		done.Add(1)
		return nil
	})
	close(finished)
	if err != nil {
		return fmt.Errorf("seeding dialogs: %w", err)
	}
	want := int64(n) * int64(len(r.mgrs))
	for deadline := time.Now().Add(time.Minute); r.seedGot.Load() < want && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	if got := r.seedGot.Load(); got < want {
		r.progress("seeded dialogs: %d of %d messages reached the managers", got, want)
	}
	rep.SeededDialogs = int64(done.Load())
	rep.SeedS = round(time.Since(t0).Seconds(), 1)
	r.progress("seeded %d dialogs in %.1f s", rep.SeededDialogs, rep.SeedS)
	return nil
}

// finishManagers fills in the managers' part of the report once every
// reader has ended: latencies, and the acknowledged messages (before the
// cutoff) that some manager's list never got.
func (r *vrunner) finishManagers(rep *VisitorReport) (lost map[[2]int]bool) {
	if len(r.mgrs) == 0 {
		return nil
	}
	lost = map[[2]int]bool{}
	var all, existing, steady, created, dialog []int64
	for _, m := range r.mgrs {
		all, existing = append(all, m.lat...), append(existing, m.latExisting...)
		steady = append(steady, m.latSteady...)
		created, dialog = append(created, m.createdLat...), append(dialog, m.dialogLat...)
		rep.ManagerViaCreated += m.viaCreated
		rep.ManagerViaDialog += m.viaDialog
		rep.ManagerDialogUpdates += m.updates
		slices.Sort(m.lat)
		rep.ManagerWorstP99Ms = max(rep.ManagerWorstP99Ms, ms(quantile(m.lat, 0.99)))
	}
	for _, v := range r.vis {
		for k := range v.sends {
			s := &v.sends[k]
			if s.state.Load() != acked || s.ackAt.Load() > r.cutoff {
				continue
			}
			for _, m := range r.mgrs {
				if m.seen[v.idx][k] == 0 {
					rep.ManagerMissing++
					lost[[2]int{v.idx, k}] = true
				}
			}
		}
	}
	for _, s := range [][]int64{all, existing, steady, created, dialog} {
		slices.Sort(s)
	}
	rep.ManagerDeliveries = rep.ManagerViaCreated + rep.ManagerViaDialog
	rep.ManagerP50Ms, rep.ManagerP95Ms = ms(quantile(all, 0.5)), ms(quantile(all, 0.95))
	rep.ManagerP99Ms, rep.ManagerMaxMs = ms(quantile(all, 0.99)), ms(quantile(all, 1))
	rep.ManagerExistingP50Ms, rep.ManagerExistingP95Ms = ms(quantile(existing, 0.5)), ms(quantile(existing, 0.95))
	rep.ManagerExistingP99Ms, rep.ManagerExistingMaxMs = ms(quantile(existing, 0.99)), ms(quantile(existing, 1))
	rep.ManagerSteadyP50Ms, rep.ManagerSteadyP95Ms = ms(quantile(steady, 0.5)), ms(quantile(steady, 0.95))
	rep.ManagerSteadyP99Ms, rep.ManagerSteadyMaxMs = ms(quantile(steady, 0.99)), ms(quantile(steady, 1))
	rep.ManagerCreatedP99Ms, rep.ManagerDialogP99Ms = ms(quantile(created, 0.99)), ms(quantile(dialog, 0.99))
	return lost
}

// printManagers adds the managers' lines to the printed report.
func (rep *VisitorReport) printManagers(p func(label, format string, args ...any)) {
	if rep.Managers == 0 {
		return
	}
	if rep.SeededDialogs > 0 {
		p("seeded", "%d dialogs before the run (%.1f s)", rep.SeededDialogs, rep.SeedS)
	}
	p("managers", "%d lists got %d visitor messages: p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (visitor's send to the event that updates each manager's list; worst manager's p99 %.1f ms)",
		rep.Managers, rep.ManagerDeliveries, rep.ManagerP50Ms, rep.ManagerP95Ms, rep.ManagerP99Ms, rep.ManagerMaxMs, rep.ManagerWorstP99Ms)
	p("  existing", "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (the same, leaving out each visitor's first message, which opens its dialog)",
		rep.ManagerExistingP50Ms, rep.ManagerExistingP95Ms, rep.ManagerExistingP99Ms, rep.ManagerExistingMaxMs)
	p("  steady", "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms  (from each visitor's third message on: every dialog opened, connected and answered a round before)",
		rep.ManagerSteadyP50Ms, rep.ManagerSteadyP95Ms, rep.ManagerSteadyP99Ms, rep.ManagerSteadyMaxMs)
	p("  by event", "message.created first %d (p99 %.1f ms), dialog.updated first %d (p99 %.1f ms; %d received)",
		rep.ManagerViaCreated, rep.ManagerCreatedP99Ms, rep.ManagerViaDialog, rep.ManagerDialogP99Ms, rep.ManagerDialogUpdates)
	p("  missed", "%d  (acknowledged visitor messages × managers whose list never got them)", rep.ManagerMissing)
}
