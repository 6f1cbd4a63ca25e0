# herald in a container, for teams that run the daemon (herald run) there.
#
#   docker build -t herald --build-arg VERSION=1.2.3 .
#   docker run --rm -v "$PWD:/work" -e A1BASE_API_KEY -e A1BASE_API_SECRET herald
#
# The image runs "herald run" in /work by default; any other command is
# given as arguments, e.g. "docker run ... herald plan". Releases publish
# the same image, built from the release binaries (release.Dockerfile).

# The build stage compiles the static binary as the release does (see
# .goreleaser.yaml: CGO_ENABLED=0, -trimpath, the same ldflags).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.0.0-dev
ARG COMMIT=
ARG DATE=
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" -o /out/herald .

# distroless static: no shell, no package manager, CA certificates and
# time zone data included; its nonroot user is uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /usr/local/bin/herald
USER nonroot:nonroot
# Configuration (*.hcl) and the state file live here: mount a volume, or use
# the PostgreSQL backend and mount the configuration read-only.
WORKDIR /work
ENTRYPOINT ["herald"]
CMD ["run"]
