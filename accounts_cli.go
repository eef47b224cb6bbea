package main

import (
	"context"
	"fmt"
	"io"
)

func cmdAdminCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("admin create: not yet")
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return fmt.Errorf("token create: not yet")
}
