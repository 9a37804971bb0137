package parley

import "context"

// Mail is an e-mail Parley writes to one of its own users (an invitation,
// a password reset, messages missed): plain text, in UTF-8.
type Mail struct {
	To      string // an address
	Subject string
	Text    string
}

// Mailer sends Parley's own e-mail through the deployment's submission
// server (--smtp-url). A nil Mailer means none is configured: features that
// need one say so rather than pretend to send.
type Mailer interface {
	// Send returns after the server accepted the message; a refusal is
	// EINVALID with the server's words, an unreachable server
	// EUNAVAILABLE.
	Send(ctx context.Context, m Mail) error
}
