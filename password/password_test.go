package password_test

import (
	"strings"
	"testing"

	"appfactory/apperr"
	"appfactory/password"
)

func TestHashAndVerify(t *testing.T) {
	h, err := password.Hash("a fine long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "passphrase") {
		t.Fatalf("hash %q", h)
	}
	if h2, _ := password.Hash("a fine long passphrase"); h2 == h {
		t.Fatal("two hashes of one password are equal: no salt?")
	}
	for _, tc := range []struct {
		pw         string
		ok, rehash bool
	}{{"a fine long passphrase", true, false}, {"a fine long passphrasE", false, false}, {"", false, false}} {
		ok, rehash, err := password.Verify(tc.pw, h)
		if err != nil || ok != tc.ok || rehash != tc.rehash {
			t.Errorf("Verify(%q) = %v %v %v", tc.pw, ok, rehash, err)
		}
	}
}

func TestOldParametersAskForRehash(t *testing.T) {
	old, err := password.HashWith("a fine long passphrase", password.Params{Memory: 8 * 1024, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ok, rehash, err := password.Verify("a fine long passphrase", old)
	if err != nil || !ok || !rehash {
		t.Fatalf("old hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if ok, rehash, err := password.Verify("wrong", old); err != nil || ok || rehash {
		t.Fatalf("wrong password on old hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
	if p := password.Current; p.Memory < 19*1024 || p.Time < 2 || p.Threads < 1 {
		t.Fatalf("current parameters below OWASP's: %+v", p)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name, pw string
		ok       bool
	}{
		{"short", "abc1234", false},
		{"eight", "zq8!kd0a", true},
		{"eight runes, more bytes", "pässwörtçé", true},
		{"seven runes", "äöüäöüä", false},
		{"common", "password123", false},
		{"common any case", "PassWord123", false},
		{"long", strings.Repeat("x7", 64), true},
		{"too long", strings.Repeat("x", password.MaxBytes+1), false},
		{"spaces", "correct horse battery staple", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := password.Validate(tc.pw)
			if (err == nil) != tc.ok {
				t.Fatalf("Validate(%q) = %v", tc.pw, err)
			}
			if err != nil {
				if e, ok := err.(*apperr.Error); !ok || e.Field != "password" {
					t.Errorf("error does not name the field: %#v", err)
				}
			}
		})
	}
}

func TestDecodeRefusesBadHashes(t *testing.T) {
	for _, h := range []string{
		"", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=0,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5a2V5a2V5a2V5a2V5",
	} {
		if _, _, err := password.Verify("x", h); err == nil {
			t.Errorf("Verify accepted hash %q", h)
		}
	}
}

func FuzzDecode(f *testing.F) {
	h, _ := password.HashWith("seed", password.Params{Memory: 64, Time: 1, Threads: 1})
	for _, s := range []string{h, "$argon2id$v=19$m=19456,t=2,p=1$$", "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$$$$$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := password.Decode(s)
		if err != nil {
			return
		}
		// Whatever decodes must be cheap enough to verify and well formed.
		if p.Memory > 1<<20 || p.Time > 16 || p.Threads < 1 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("Decode(%q) accepted %+v salt %d key %d", s, p, len(salt), len(key))
		}
	})
}
