package mail

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"appfactory/store"
	"appfactory/views"
)

// Kinds of mail. Verification and reset are security mail: they cannot be
// turned off and carry no unsubscribe link.
const (
	KindVerify     = "verify"
	KindReset      = "reset"
	KindInvite     = "invite"
	KindReady      = "ready"
	KindDemoShared = "demo_shared"
	// The trial notices' kinds are the store's notice kinds.
	KindExpiring3Days = store.NoticeExpiring3Days
	KindExpiring1Day  = store.NoticeExpiring1Day
	KindExpired       = store.NoticeExpired
)

// Security reports whether a kind of mail is security mail.
func Security(kind string) bool { return kind == KindVerify || kind == KindReset }

// Composer renders the portal's mails with links right for the portal's
// address.
type Composer struct {
	// Portal is the portal's origin ("https://factory.example.com").
	Portal string
	// TenantURL is a tenant's public address.
	TenantURL func(slug string) string
	// Key signs unsubscribe links.
	Key []byte
}

// UnsubscribeURL is a user's signed one-click link that turns off all
// but security mail, usable without signing in.
func (c *Composer) UnsubscribeURL(userID string) string {
	return c.Portal + "/unsubscribe/" + userID + "/" + c.sign(userID)
}

// ValidUnsubscribe reports whether sig is the unsubscribe signature of userID.
func (c *Composer) ValidUnsubscribe(userID, sig string) bool {
	return hmac.Equal([]byte(sig), []byte(c.sign(userID)))
}

func (c *Composer) sign(userID string) string {
	m := hmac.New(sha256.New, c.Key)
	m.Write([]byte("unsubscribe\x00" + userID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// render makes the outbox row of a mail to u.
func (c *Composer) render(kind string, u *store.User, v views.MailView) (*store.OutboxMail, error) {
	v.Portal = c.Portal + "/"
	if !Security(kind) {
		v.Unsubscribe = c.UnsubscribeURL(u.ID)
	}
	if v.Greeting == "" {
		v.Greeting = "Hello " + firstName(u) + ","
	}
	var html bytes.Buffer
	if err := views.MailHTML(v).Render(context.Background(), &html); err != nil {
		return nil, fmt.Errorf("render %s mail: %w", kind, err)
	}
	return &store.OutboxMail{Kind: kind, UserID: u.ID, To: u.Email, Subject: v.Subject,
		Text: views.MailText(v), HTML: html.String(), Unsubscribe: v.Unsubscribe}, nil
}

func firstName(u *store.User) string {
	if f := strings.Fields(u.Name); len(f) > 0 {
		return f[0]
	}
	return "there"
}

// Verify is the mail that confirms a new account's address.
func (c *Composer) Verify(u *store.User, token string) (*store.OutboxMail, error) {
	return c.render(KindVerify, u, views.MailView{
		Subject: "Confirm your email for " + views.Product,
		Lines:   []string{"Thanks for starting a trial. Confirm that this address is yours, so that you can deploy what you build."},
		Action:  &views.MailAction{Label: "Confirm my email", URL: c.Portal + "/verify/" + token},
		After:   []string{"If you did not sign up, ignore this mail: nothing is deployed for this address."},
		Why:     "You get this mail because someone signed up with this address. It is security mail, sent whatever your mail settings.",
	})
}

// Reset is the mail with a password-reset link, valid for ttl.
func (c *Composer) Reset(u *store.User, token string, ttl time.Duration) (*store.OutboxMail, error) {
	return c.render(KindReset, u, views.MailView{
		Subject: "Reset your " + views.Product + " password",
		Lines:   []string{"Someone asked to reset the password of your account. The link works once, for " + ttl.String() + "."},
		Action:  &views.MailAction{Label: "Choose a new password", URL: c.Portal + "/reset/" + token},
		After:   []string{"If it was not you, ignore this mail: your password stays as it is."},
		Why:     "You get this mail because a password reset was asked for this address. It is security mail, sent whatever your mail settings.",
	})
}

// Invite is an invitation to set a password for an account made for u.
func (c *Composer) Invite(u *store.User, token string) (*store.OutboxMail, error) {
	return c.render(KindInvite, u, views.MailView{
		Subject: "You are invited to " + views.Product,
		Lines:   []string{"An account was made for you. Choose a password to sign in and see your applications."},
		Action:  &views.MailAction{Label: "Choose my password", URL: c.Portal + "/invite/" + token},
		Why:     "You get this mail because our team invited this address.",
	})
}

// DemoShared tells a prospect a sales person made a demo for them (with
// their invitation link when the account is new: inviteToken "" for none).
func (c *Composer) DemoShared(u *store.User, t *store.Tenant, seller *store.User, inviteToken string) (*store.OutboxMail, error) {
	v := views.MailView{
		Subject: "A demo of " + orName(t.Title, t.Slug) + " is ready for you",
		Lines:   []string{sellerName(seller) + " made a demo for you. It is being deployed now and will answer at " + c.TenantURL(t.Slug) + "."},
		Action:  &views.MailAction{Label: "Open the demo", URL: c.TenantURL(t.Slug)},
		Why:     "You get this mail because " + sellerName(seller) + " shared a demo with this address.",
	}
	if inviteToken != "" {
		v.After = []string{"To see it in the portal, choose a password for your new account: " + c.Portal + "/invite/" + inviteToken}
	}
	return c.render(KindDemoShared, u, v)
}

// Ready tells the owner a tenant's deployment is up.
func (c *Composer) Ready(u *store.User, t *store.Tenant) (*store.OutboxMail, error) {
	return c.render(KindReady, u, views.MailView{
		Subject: orName(t.Title, t.Slug) + " is running",
		Lines:   []string{"Your deployment " + t.Slug + " is up and running at " + c.TenantURL(t.Slug) + "."},
		Action:  &views.MailAction{Label: "Open " + t.Slug, URL: c.TenantURL(t.Slug)},
		After:   []string{"Manage it in the portal: " + c.Portal + "/tenants/" + t.ID},
		Why:     "You get this mail because you deployed " + t.Slug + ". It is sent once, when it first runs.",
	})
}

// TrialNotice is the mail of a trial notice kind (expiring in 3 days or 1
// day, expired).
func (c *Composer) TrialNotice(kind string, u *store.User, t *store.Tenant, now time.Time) (*store.OutboxMail, error) {
	ends := t.ExpiresAt.UTC().Format("Monday, January 2, 2006 at 15:04 UTC")
	extend := "To keep it longer, reply to your contact or ask us to extend your trial; your data is kept meanwhile."
	v := views.MailView{
		Action: &views.MailAction{Label: "See " + t.Slug + " in the portal", URL: c.Portal + "/tenants/" + t.ID},
		After:  []string{extend},
		Why:    "You get this mail because your trial " + t.Slug + " reached this point of its period.",
	}
	switch kind {
	case KindExpiring3Days, KindExpiring1Day:
		left := t.ExpiresAt.Sub(now).Round(time.Hour)
		v.Subject = "Your trial " + t.Slug + " ends in " + humanDuration(left)
		v.Lines = []string{"The trial of " + t.Slug + " (" + c.TenantURL(t.Slug) + ") ends " + ends + "."}
	case KindExpired:
		v.Subject = "Your trial " + t.Slug + " has ended"
		v.Lines = []string{"The trial of " + t.Slug + " ended " + ends + ". It is stopped; its data is kept."}
		v.After = []string{"To use it again, ask your contact or us to extend your trial: it starts again with its data as you left it."}
	default:
		return nil, fmt.Errorf("no trial notice %q", kind)
	}
	return c.render(kind, u, v)
}

// humanTTL says how long a link works ("one hour", "90 minutes").
func humanTTL(d time.Duration) string {
	switch {
	case d == time.Hour:
		return "one hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return fmt.Sprintf("%d minutes", int(d/time.Minute))
}

func humanDuration(d time.Duration) string {
	if d >= 36*time.Hour {
		return fmt.Sprintf("%d days", int((d+12*time.Hour)/(24*time.Hour)))
	}
	if d > 2*time.Hour {
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return "less than 2 hours"
}

func orName(title, slug string) string {
	if title != "" {
		return title
	}
	return slug
}

func sellerName(u *store.User) string {
	if u == nil {
		return "Our team"
	}
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}
