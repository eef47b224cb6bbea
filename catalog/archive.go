package catalog

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"strings"
)

// errStream is returned once the decompressed tar stream passes its budget.
var errStream = errors.New("decompressed stream over budget")

// streamBudget stops a reader after a number of bytes: it bounds the work of
// decompressing a tar stream, headers and padding included.
type streamBudget struct {
	r    io.Reader
	left int64
}

func (s *streamBudget) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, errStream
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}

func (u *unpacker) readTarGz(data []byte) error {
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return refuse("The archive is damaged (%s).", plainError(err))
	}
	// Headers take 512 bytes and files are padded to 512: allow for them on
	// top of the file budget.
	stream := &streamBudget{r: gz, left: u.budget + int64(u.lim.MaxEntries+4)*1024 + 64<<10}
	tr := tar.NewReader(stream)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return u.streamError(err)
		}
		switch hdr.Typeflag {
		case tar.TypeXGlobalHeader:
			continue // metadata, such as the commit id that git archive records
		case tar.TypeReg:
			err = u.addFile(hdr.Name, hdr.Mode, tr)
		case tar.TypeDir:
			err = u.addDir(hdr.Name)
		case tar.TypeSymlink, tar.TypeLink:
			err = refuse("Entry %q is a link; links are not accepted.", hdr.Name)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			err = refuse("Entry %q is a device or a pipe; only files and directories are accepted.", hdr.Name)
		default:
			err = refuse("Entry %q is of a kind (%q) that is not accepted; only files and directories are.", hdr.Name, string(hdr.Typeflag))
		}
		if errors.Is(err, errStream) {
			return u.overBudget()
		}
		if err != nil {
			return err
		}
	}
	// Read to the end so gzip checks its checksum: a damaged archive is
	// refused whole, not used in part.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return u.streamError(err)
	}
	return nil
}

func (u *unpacker) streamError(err error) error {
	if errors.Is(err, errStream) {
		return u.overBudget()
	}
	return refuse("The archive is damaged (%s).", plainError(err))
}

func (u *unpacker) readZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return refuse("The archive is damaged (%s).", plainError(err))
	}
	if len(zr.File) > u.lim.MaxEntries {
		return tooLarge("The archive holds more than %d entries.", u.lim.MaxEntries)
	}
	for _, f := range zr.File {
		mode := f.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return refuse("Entry %q is a link; links are not accepted.", f.Name)
		case mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeIrregular) != 0:
			return refuse("Entry %q is a device or a pipe; only files and directories are accepted.", f.Name)
		case strings.HasSuffix(f.Name, "/") || mode.IsDir():
			if err := u.addDir(f.Name); err != nil {
				return err
			}
			continue
		case f.Flags&0x1 != 0:
			return refuse("Entry %q is encrypted.", f.Name)
		case f.Method != zip.Store && f.Method != zip.Deflate:
			return refuse("Entry %q uses a compression method that is not accepted.", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return refuse("The archive is damaged (%s).", plainError(err))
		}
		err = u.addFile(f.Name, int64(mode.Perm()), rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
