# The release image: GoReleaser (dockers_v2 in .goreleaser.yaml) builds it
# from the release binaries, which it puts under linux/amd64/ and
# linux/arm64/ in the build context. The final stage matches Dockerfile's.
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/herald /usr/local/bin/herald
USER nonroot:nonroot
WORKDIR /work
ENTRYPOINT ["herald"]
CMD ["run"]
