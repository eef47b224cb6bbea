package router

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// copyN copies n bytes (all until EOF when n < 0) from br to w, sending
// what w holds before each wait for more.
func copyN(w *bufio.Writer, br *bufio.Reader, n int64) error {
	for n != 0 {
		if br.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return errClientWrite
			}
			if _, err := br.Peek(1); err != nil {
				if n < 0 && err == io.EOF {
					return nil
				}
				return err
			}
		}
		k := br.Buffered()
		if n >= 0 && int64(k) > n {
			k = int(n)
		}
		b, _ := br.Peek(k)
		if _, err := w.Write(b); err != nil {
			return errClientWrite
		}
		_, _ = br.Discard(k)
		if n > 0 {
			n -= int64(k)
		}
	}
	return nil
}

// copyChunked copies a chunked body as it is, chunk by chunk, up to the
// end of its trailers.
func copyChunked(w *bufio.Writer, br *bufio.Reader) error {
	for {
		line, err := chunkLine(w, br)
		if err != nil {
			return err
		}
		size := line
		if i := bytes.IndexByte(size, ';'); i >= 0 {
			size = size[:i]
		}
		n, err := strconv.ParseUint(string(bytes.TrimSpace(size)), 16, 62)
		if err != nil {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if _, err := w.Write(line); err != nil {
			return errClientWrite
		}
		_, _ = w.WriteString("\r\n")
		if n == 0 {
			// The trailers, up to the empty line.
			for {
				line, err := chunkLine(w, br)
				if err != nil {
					return err
				}
				if _, err := w.Write(line); err != nil {
					return errClientWrite
				}
				_, _ = w.WriteString("\r\n")
				if len(line) == 0 {
					return nil
				}
			}
		}
		if err := copyN(w, br, int64(n)); err != nil {
			return err
		}
		end, err := chunkLine(w, br)
		if err != nil {
			return err
		}
		if len(end) != 0 {
			return errors.New("a chunk longer than its size")
		}
		_, _ = w.WriteString("\r\n")
	}
}

// chunkLine reads one CRLF-ended line of a chunked body (without its
// CRLF), sending what w holds before waiting for it.
func chunkLine(w *bufio.Writer, br *bufio.Reader) ([]byte, error) {
	if b, _ := br.Peek(br.Buffered()); bytes.IndexByte(b, '\n') < 0 {
		if err := w.Flush(); err != nil {
			return nil, errClientWrite
		}
	}
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errors.New("a chunk line too long")
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errors.New("a chunk line without CRLF")
	}
	return line[:len(line)-2], nil
}
