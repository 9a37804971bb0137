package main

import (
	"context"
	"net"
	"net/url"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/channel"
	"github.com/parley-chat/parley/channel/email"
)

// serveMail receives e-mail for the e-mail channels set to receive by SMTP
// (the domain's MX points here, or a mail server forwards to it): a
// message is accepted only once it is stored, so the sending server keeps
// it and retries while it cannot be.
func (m *Main) serveMail(addr string) error {
	find := func(ctx context.Context, rcpt string) *parley.Channel {
		list, err := m.store.Channels(ctx, 0)
		if err != nil {
			return nil
		}
		to := email.BaseAddress(rcpt)
		for _, ch := range list {
			if ch.Kind == parley.ChannelEmail && email.ReceivesBySMTP(ch) && email.Address(ch) == to {
				return ch
			}
		}
		return nil
	}
	b := &email.Backend{Logger: m.Logger,
		Accept: func(ctx context.Context, rcpt string) bool { return find(ctx, rcpt) != nil },
		Deliver: func(ctx context.Context, rcpt string, in *channel.Inbound) error {
			ch := find(ctx, rcpt)
			if ch == nil || ch.Paused {
				return parley.Errorf(parley.EUNAVAILABLE, "the channel is paused")
			}
			return m.Channels.Receive(ctx, ch, in)
		}}
	domain := "localhost"
	if u, err := url.Parse(m.Config.PublicURL); err == nil && u.Hostname() != "" {
		domain = u.Hostname()
	}
	srv := email.NewServer(b, domain)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	m.mail = srv
	go srv.Serve(ln)
	m.Logger.Info("receiving e-mail", "addr", ln.Addr().String())
	return nil
}
