package views

import "time"

// OutboxView is the admins' list of mails.
type OutboxView struct {
	// Relay says mail is sent by SMTP; without, this is the development outbox.
	Relay bool
	Mails []OutboxRow
}

// OutboxRow is one mail of the list.
type OutboxRow struct {
	ID, To, Kind, Subject, Status string
	Created                       time.Time
}

// OutboxMailView is one mail with both its parts.
type OutboxMailView struct {
	OutboxRow
	Text, HTML, Unsubscribe, LastError string
	Attempts                           int
}
