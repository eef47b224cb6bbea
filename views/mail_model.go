package views

import "strings"

// Product is the name the portal and its mails go by.
const Product = "appfactory"

// MailView is one mail's content; MailHTML and MailText render the same
// model as the mail's two parts.
type MailView struct {
	// Subject is also the HTML part's title.
	Subject string
	// Greeting opens the mail ("Hello Pia,").
	Greeting string
	// Lines are the paragraphs before the action.
	Lines []string
	// Action is the one link the mail is about (nil for none).
	Action *MailAction
	// After are the paragraphs after the action.
	After []string
	// Why says why the mail was sent.
	Why string
	// Unsubscribe is the one-click link ("" for security mail, which cannot be turned off).
	Unsubscribe string
	// Portal is the portal's address.
	Portal string
}

// MailAction is a mail's button: its label and address.
type MailAction struct {
	Label, URL string
}

// MailText is the plain-text part of a mail.
func MailText(v MailView) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteString("\n") }
	if v.Greeting != "" {
		line(v.Greeting)
		line("")
	}
	for _, l := range v.Lines {
		line(l)
		line("")
	}
	if v.Action != nil {
		line(v.Action.Label + ":")
		line(v.Action.URL)
		line("")
	}
	for _, l := range v.After {
		line(l)
		line("")
	}
	line("-- ")
	line(Product + " · " + v.Portal)
	line(v.Why)
	if v.Unsubscribe != "" {
		line("Turn off these mails: " + v.Unsubscribe)
	}
	return b.String()
}
