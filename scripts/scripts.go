// Package scripts embeds the shell scripts the locktest binary may need to run itself, so they
// work from any directory. The scripts stay runnable by hand from a checkout.
package scripts

import _ "embed"

// MakeBaseImage creates the base Docker image from Debian packages (debootstrap + docker import),
// for machines that cannot reach an image registry.
//
//go:embed make-base-image.sh
var MakeBaseImage string
