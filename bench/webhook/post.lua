-- wrk script: POST the AdmissionReview in env BODY_FILE to the path in env URL_PATH.
-- With env DELAY_MS > 0 each connection waits that long between requests (wrk 4.1 has
-- no -R), which paces the load for the latency-at-fixed-rate run.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.path = os.getenv("URL_PATH") or "/mutate"
wrk.headers["Content-Type"] = "application/json"
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end
function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
