# Container image of the KRM function, for kpt/kustomize container functions.
# Build: docker build -t inject-sidecar .
# Use:   kpt:       pipeline mutators `- image: <registry>/inject-sidecar:<tag>`
#        kustomize: config.kubernetes.io/function: {container: {image: ...}}
# The build command below, run directly in a checkout, makes the same static
# binary (examples/image_test.go checks it).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY fn/ fn/
COPY pkg/ pkg/
ARG VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/inject-sidecar ./fn

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/inject-sidecar /usr/local/bin/inject-sidecar
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/inject-sidecar"]
