package messaging

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/linkpreview"
)

// Link previews: after a message is stored (and acknowledged), the server
// fetches its first web link through the safe client and adds the preview
// to the message with a message.updated event. Pages are cached by URL.

const (
	previewWorkers  = 4              // pages fetched at once, process-wide
	previewCacheFor = 24 * time.Hour // a page's preview is fetched again after this
	previewBudget   = 20 * time.Second
)

type previewer struct {
	s      *Service
	c      *linkpreview.Client
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newPreviewer(s *Service, c *linkpreview.Client) *previewer {
	ctx, cancel := context.WithCancel(context.Background())
	return &previewer{s: s, c: c, sem: make(chan struct{}, previewWorkers), ctx: ctx, cancel: cancel}
}

func (p *previewer) close() {
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
	p.c.Close()
}

// queue fetches m's first link's preview in the background, unless m has
// one (or its sender removed it).
func (p *previewer) queue(m *parley.Message) {
	if p == nil || m == nil || m.Preview != nil || m.Deleted() || (m.Kind != parley.MsgText && m.Kind != parley.MsgFile) {
		return
	}
	u := linkpreview.FirstLink(m.Text)
	if u == "" || len(u) > 2000 {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		defer func() { <-p.sem }()
		ctx, cancel := context.WithTimeout(p.ctx, previewBudget)
		defer cancel()
		lp, ok := p.lookup(ctx, u)
		if !ok {
			return
		}
		if err := p.s.setPreview(ctx, m.ID, lp); err != nil && ctx.Err() == nil {
			p.s.log.Warn("storing a link preview", "message_id", m.ID, "err", err)
		}
	}()
}

// lookup returns u's preview from the cache, or fetches it.
func (p *previewer) lookup(ctx context.Context, u string) (parley.LinkPreview, bool) {
	s := p.s
	if c, err := s.store.LinkPreviewCache(ctx, u); err == nil && s.now().Sub(c.FetchedAt) < previewCacheFor {
		return c.Preview, c.OK
	}
	c := &parley.CachedLinkPreview{Preview: parley.LinkPreview{URL: u}, FetchedAt: s.now()}
	r, err := p.c.Get(ctx, u, "text/html", "application/xhtml+xml")
	if err != nil {
		if ctx.Err() != nil {
			return c.Preview, false // stopping: not worth remembering
		}
		s.log.Debug("link preview not fetched", "url", u, "err", err)
	} else if meta := linkpreview.Parse(r.Body, r.URL); !meta.Empty() {
		c.OK = true
		c.Preview.Title, c.Preview.Description, c.Preview.SiteName = meta.Title, meta.Description, meta.SiteName
		if meta.Image != "" {
			c.Preview.Image = p.image(ctx, u, meta.Image)
		}
	}
	if err := s.write(ctx, func(tx parley.Tx) error { return tx.PutLinkPreviewCache(ctx, u, c) }); err != nil {
		s.log.Warn("caching a link preview", "url", u, "err", err)
	}
	return c.Preview, c.OK
}

// image fetches a page's image through the same client and keeps its
// thumbnail: clients load it from Parley, never from the page's site.
func (p *previewer) image(ctx context.Context, page, src string) string {
	r, err := p.c.Get(ctx, src, "image/")
	if err != nil || r.Truncated {
		return ""
	}
	_, _, thumb, ok := preview(ctx, r.Body)
	if !ok || thumb == nil {
		return ""
	}
	sum := sha256.Sum256([]byte(page + "\n" + src))
	key := hex.EncodeToString(sum[:16])
	if err := p.s.blobs.Put(ctx, parley.LinkImageKey(key), bytes.NewReader(thumb), int64(len(thumb)), "image/jpeg"); err != nil {
		p.s.log.Warn("storing a link preview's image", "url", src, "err", err)
		return ""
	}
	return key
}

// setPreview adds a fetched preview to a message whose first link it still
// is, unless it has one.
func (s *Service) setPreview(ctx context.Context, msgID int64, lp parley.LinkPreview) error {
	return s.write(ctx, func(tx parley.Tx) error {
		m, err := tx.MessageByID(ctx, msgID)
		if err != nil {
			return err
		}
		if m.Deleted() || m.Preview != nil || linkpreview.FirstLink(m.Text) != lp.URL {
			return nil
		}
		m.Preview = &lp
		if err := tx.SetMessagePreview(ctx, m.ID, m.Preview); err != nil {
			return err
		}
		s.emitPreview(tx, m)
		return nil
	})
}

// emitPreview announces a message whose preview changed to the staff who
// see it. The visitor's widget shows no previews: its projection of the
// message did not change.
func (s *Service) emitPreview(tx parley.Tx, m *parley.Message) {
	e := parley.NewEvent(parley.EventMessageUpdated, m.ConversationID, 0, m)
	e.Seq = m.Seq
	tx.Emit(e)
}

// RemovePreview takes the link preview off one of the actor's own
// messages; it is not fetched again for that message (a preview still
// being fetched is not added).
func (s *Service) RemovePreview(ctx context.Context, actor *parley.User, msgID int64) (*parley.Message, error) {
	var m *parley.Message
	err := s.write(ctx, func(tx parley.Tx) error {
		var err error
		if m, err = s.ownMessage(ctx, tx, actor, msgID); err != nil {
			return err
		}
		u := linkpreview.FirstLink(m.Text)
		if u == "" {
			return parley.Errorf(parley.ECONFLICT, "the message has no link to preview")
		}
		m.Preview = &parley.LinkPreview{URL: u, Hidden: true}
		if err := tx.SetMessagePreview(ctx, m.ID, m.Preview); err != nil {
			return err
		}
		s.emitPreview(tx, m)
		return nil
	})
	return m, err
}

// previewAfterEdit keeps m's preview when its first link is the same,
// and otherwise drops it (the new link is fetched after the edit commits).
func previewAfterEdit(m *parley.Message) {
	if m.Preview != nil && linkpreview.FirstLink(m.Text) != m.Preview.URL {
		m.Preview = nil
	}
}

// LinkImage opens a link preview's image thumbnail (JPEG). Any signed-in
// user may load one: it is a public page's image, named by a key only a
// preview gives away.
func (s *Service) LinkImage(ctx context.Context, key string) (io.ReadCloser, error) {
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		return nil, parley.Errorf(parley.ENOTFOUND, "image not found")
	}
	rc, _, err := s.blobs.Get(ctx, parley.LinkImageKey(key))
	return rc, err
}
