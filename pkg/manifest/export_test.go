package manifest

// FastParse exposes fastParse to the external tests, which compare it
// with yaml.v3 on generated workloads (workloadgen imports this package).
var FastParse = fastParse

// PlainTag exposes plainTag, which the tests compare with ShortTag.
var PlainTag = plainTag
