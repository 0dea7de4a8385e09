# A logistic scorer speaking the modelward process protocol (docs/process-protocol.md), in
# base R: requests are read with regular expressions, which the protocol keeps possible
# (compact ASCII JSON, flat arrays of numbers or null, keys in a fixed order).
weights <- read.csv(commandArgs(trailingOnly = TRUE)[1], stringsAsFactors = FALSE)
intercept <- weights$weight[weights$feature == "(intercept)"]
features <- weights[weights$feature != "(intercept)", ]

send <- function(text) {
  cat(text, "\n", sep = "")
  flush(stdout())
}
numbers <- function(x) {
  paste0("[", paste(ifelse(is.na(x), "null", sprintf("%.17g", x)), collapse = ","), "]")
}
text_field <- function(line, key) {
  found <- regmatches(line, regexec(sprintf('"%s":"([^"]*)"', key), line))[[1]]
  if (length(found) == 2) found[2] else ""
}
columns <- function(line) {
  body <- sub('.*"columns":\\{([^}]*)\\}.*', "\\1", line)
  items <- regmatches(body, gregexpr('"[^"]+":\\[[^]]*\\]', body))[[1]]
  values <- lapply(sub("^[^[]*\\[(.*)\\]$", "\\1", items), function(text) {
    parts <- strsplit(text, ",", fixed = TRUE)[[1]]
    suppressWarnings(as.numeric(ifelse(parts == "null", NA, parts)))
  })
  setNames(values, sub('^"([^"]+)".*', "\\1", items))
}
describe <- function() {
  inputs <- sprintf('{"name":"%s","type":"double","nullable":false}', features$feature)
  paste0(
    '{"type":"describe","protocol":1,"name":"logistic-r","version":"1",',
    '"signature":{"inputs":[', paste(inputs, collapse = ","), '],',
    '"outputs":[{"name":"probability","type":"double","nullable":true},',
    '{"name":"label","type":"integer","nullable":true}]},',
    '"params":{"threshold":"probability from which the label is 1 (default 0.5)"}}'
  )
}
predict <- function(line) {
  id <- text_field(line, "id")
  cols <- columns(line)
  missing <- setdiff(features$feature, names(cols))
  if (length(missing) > 0) {
    return(sprintf('{"type":"error","id":"%s","message":"missing column %s"}', id, missing[1]))
  }
  z <- intercept
  for (i in seq_len(nrow(features))) z <- z + features$weight[i] * cols[[features$feature[i]]]
  p <- 1 / (1 + exp(-z))
  params <- sub('.*"params":\\{(.*)\\}\\}$', "\\1", line)
  found <- regmatches(params, regexec('"threshold":([-+.0-9eE]+)', params))[[1]]
  threshold <- if (length(found) == 2) as.numeric(found[2]) else 0.5
  label <- ifelse(is.na(p), "null", as.character(as.integer(p >= threshold)))
  sprintf(
    '{"type":"result","id":"%s","columns":{"probability":%s,"label":[%s]}}',
    id, numbers(p), paste(label, collapse = ",")
  )
}

input <- file("stdin", open = "r")
message("logistic-r ready (pid ", Sys.getpid(), ")")
repeat {
  line <- readLines(input, n = 1)
  if (length(line) == 0) break
  type <- text_field(line, "type")
  if (type == "describe") send(describe())
  if (type == "predict") send(predict(line))
  if (type == "shutdown") break
}
