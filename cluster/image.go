package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/locktest/locktest/images"
	"github.com/locktest/locktest/scripts"
)

// EnsureImage returns the tag of im, building it first if the engine does not have it. Build
// progress goes to progress, one line per build step.
//
// If the base image is missing and cannot be pulled (no registry reachable), the base is created
// from Debian packages with scripts/make-base-image.sh, which needs root.
func EnsureImage(ctx context.Context, e *Engine, im images.Image, progress io.Writer) (string, error) {
	tag, err := im.Tag()
	if err != nil {
		return "", err
	}
	if _, err := e.api.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", fmt.Errorf("inspect image %s: %w", tag, err)
	}
	if err := ensureBase(ctx, e.api, progress); err != nil {
		return "", err
	}
	fmt.Fprintf(progress, "building image %s (first run only; about a minute)\n", tag)
	start := time.Now()
	buildCtx, err := im.Context()
	if err != nil {
		return "", err
	}
	base := images.Base
	resp, err := e.api.ImageBuild(ctx, buildCtx, client.ImageBuildOptions{
		Tags:        []string{tag},
		BuildArgs:   map[string]*string{"BASE": &base},
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{LabelProject: "true"},
	})
	if err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	defer resp.Body.Close()
	if err := followBuild(resp.Body, progress); err != nil {
		return "", fmt.Errorf("build image %s: %w", tag, err)
	}
	fmt.Fprintf(progress, "built image %s in %.0fs\n", tag, time.Since(start).Seconds())
	// The build stages left behind (gcc and friends) are large and untagged: prune ours.
	prune := client.Filters{}.Add("dangling", "true").Add("label", LabelProject+"=true")
	if _, err := e.api.ImagePrune(ctx, client.ImagePruneOptions{Filters: prune}); err != nil {
		fmt.Fprintf(progress, "warning: could not prune build stages: %v\n", err)
	}
	return tag, nil
}

// RemoveImages removes every image locktest built (they are rebuilt on demand), for `clean --images`.
func RemoveImages(ctx context.Context, e *Engine) (int, error) {
	list, err := e.api.ImageList(ctx, client.ImageListOptions{All: true, Filters: client.Filters{}.Add("label", LabelProject+"=true")})
	if err != nil {
		return 0, fmt.Errorf("list images: %w", err)
	}
	n := 0
	var errs []error
	for _, im := range list.Items {
		if _, err := e.api.ImageRemove(ctx, im.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// followBuild prints the build's step lines and returns the build's error, if any.
func followBuild(r io.Reader, progress io.Writer) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Stream string `json:"stream"`
			Error  string `json:"error"`
		}
		if err := dec.Decode(&msg); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read build output: %w", err)
		}
		if msg.Error != "" {
			return fmt.Errorf("%s", strings.TrimSpace(msg.Error))
		}
		if line := strings.TrimSpace(msg.Stream); strings.HasPrefix(line, "Step ") {
			fmt.Fprintf(progress, "  %s\n", line)
		}
	}
}

// ensureBase makes sure the base image exists: present, pulled, or created from Debian packages.
func ensureBase(ctx context.Context, cli *client.Client, progress io.Writer) error {
	if _, err := cli.ImageInspect(ctx, images.Base); err == nil {
		return nil
	}
	fmt.Fprintf(progress, "base image %s is missing; trying to pull it\n", images.Base)
	if err := pull(ctx, cli, images.Base); err == nil {
		return nil
	} else {
		fmt.Fprintf(progress, "cannot pull %s (%v)\n", images.Base, firstLine(err.Error()))
	}
	fmt.Fprintf(progress, "creating %s from Debian packages with scripts/make-base-image.sh (about a minute)\n", images.Base)
	cmd := exec.CommandContext(ctx, "bash", "-s", "--", images.Base)
	cmd.Stdin = strings.NewReader(scripts.MakeBaseImage)
	cmd.Stdout, cmd.Stderr = progress, progress
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("base image %s is missing, cannot be pulled, and creating it failed (%v); "+
			"run scripts/make-base-image.sh as root, or make the image available", images.Base, err)
	}
	return nil
}

func pull(ctx context.Context, cli *client.Client, ref string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	rc, err := cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	// The pull's own errors arrive in the stream.
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		var msg struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Error != "" {
			return fmt.Errorf("%s", msg.Error)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		return err
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// EnsureImages returns the tags of the Redis image (every cluster's storage node runs it) and of
// kind k's lock node image, building either if the engine does not have it.
func EnsureImages(ctx context.Context, e *Engine, k *Kind, progress io.Writer) (redisTag, lockTag string, err error) {
	if redisTag, err = EnsureImage(ctx, e, images.Redis, progress); err != nil {
		return "", "", err
	}
	if k == nil || k.Image == images.Redis {
		return redisTag, redisTag, nil
	}
	lockTag, err = EnsureImage(ctx, e, k.Image, progress)
	return redisTag, lockTag, err
}
