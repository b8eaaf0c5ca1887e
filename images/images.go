// Package images holds the build contexts of the container images locktest runs, embedded in the
// binary so a run needs nothing but the binary and a Docker engine.
package images

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

//go:embed redis etcd zookeeper postgres
var contexts embed.FS

// Image is one image locktest builds from an embedded build context.
type Image struct {
	// Repository is the image name without tag, e.g. "locktest/redis".
	Repository string
	// Dir is the build context's directory inside this package.
	Dir string
}

// Redis is the image of every Redis node (lock nodes and the storage node).
var Redis = Image{Repository: "locktest/redis", Dir: "redis"}

// Etcd is the image of etcd members.
var Etcd = Image{Repository: "locktest/etcd", Dir: "etcd"}

// ZooKeeper is the image of ZooKeeper servers.
var ZooKeeper = Image{Repository: "locktest/zookeeper", Dir: "zookeeper"}

// Postgres is the image of PostgreSQL servers.
var Postgres = Image{Repository: "locktest/postgres", Dir: "postgres"}

// Base is the image every Dockerfile here starts from (their BASE build argument).
const Base = "debian:bookworm-slim"

// Tag returns the image reference, whose tag is derived from the build context's content: a changed
// Dockerfile gets a new tag, so an out-of-date image is never reused by accident.
func (im Image) Tag() (string, error) {
	files, err := im.files()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.name, len(f.data))
		h.Write(f.data)
	}
	return im.Repository + ":" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Context returns the build context as a tar stream, as the Docker build API expects.
func (im Image) Context() (*bytes.Buffer, error) {
	files, err := im.files()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		hdr := &tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data))}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}

type file struct {
	name string // relative to the context directory
	data []byte
}

// files lists the context's files in a stable order (the tag depends on it).
func (im Image) files() ([]file, error) {
	var files []file
	err := fs.WalkDir(contexts, im.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := contexts.ReadFile(p)
		if err != nil {
			return err
		}
		rel := p[len(im.Dir)+1:]
		files = append(files, file{name: path.Clean(rel), data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image %s: read build context: %w", im.Repository, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	return files, nil
}
