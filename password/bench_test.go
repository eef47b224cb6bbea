package password_test

import (
	"testing"

	"appfactory/password"
)

// BenchmarkHash is the cost of one sign-up or sign-in at the current parameters.
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := password.Hash("a fine long passphrase"); err != nil {
			b.Fatal(err)
		}
	}
}
