"""Writes the uas_*.xml SIPp scenarios of this folder (run: cd tests/e2e/sipp && python3
make_uas.py). Generated because every scenario needs the same in-dialog loop (re-INVITE,
UPDATE, OPTIONS, INFO, NOTIFY, stray ACK, BYE) repeated after each answer: SIPp aborts a
call when a message arrives while the call sits on a <nop>, so "answer, then jump back"
needs the receives right after the answer."""
HDR = '''<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
'''
SDP = ["v=0", "o=sipp-uas 1 1 IN IP[local_ip_type] [local_ip]", "s=-",
       "c=IN IP[media_ip_type] [media_ip]", "t=0 0", "m=audio [media_port] RTP/AVP 0 101",
       "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15",
       "a=sendrecv"]
SDP_DIR = SDP[:-1] + ["a=[$answer_dir]"]

def msg(lines, retrans=False):
    body = "\n".join("      " + l if l else "" for l in lines)
    r = ' retrans="500"' if retrans else ""
    return f'''  <send{r}>
    <![CDATA[

{body}

    ]]>
  </send>
'''

def resp(code, reason, *, sdp=False, contact=True, rr=True, totag=True, retrans=False,
         cseq="[last_CSeq:]", extra=(), sdp_lines=SDP):
    lines = [f"SIP/2.0 {code} {reason}", "[last_Via:]", "[last_From:]",
             "[last_To:];tag=[pid]SIPpTag01[call_number]" if totag else "[last_To:]",
             "[last_Call-ID:]", cseq]
    if rr: lines.append("[last_Record-Route:]")
    if contact: lines.append("Contact: <sip:uas@[local_ip]:[local_port];transport=[transport]>")
    lines.append("Server: sipp-e2e-uas")
    lines += list(extra)
    if sdp:
        lines += ["Content-Type: application/sdp", "Content-Length: [len]", ""] + sdp_lines
    else:
        lines.append("Content-Length: 0")
    return msg(lines, retrans)

INVITE = '''  <recv request="INVITE" crlf="true" rrs="true">
    <action>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote_from"/>
      <ereg regexp="sip:[^>;]*" search_in="hdr" header="To:" assign_to="local_uri"/>
    </action>
  </recv>
'''
REFS = '''  <Reference variables="remote_from,local_uri,offer_sendonly,offer_recvonly,offer_inactive"/>
'''
REFS_BASIC = '''  <Reference variables="remote_from,local_uri"/>
'''

def in_dialog(w, end, *, refer=False):
    """While the call is up: answer re-INVITE (same SDP), UPDATE/OPTIONS/INFO/NOTIFY (200),
    stray ACKs, until BYE (jump to end). After each answer the same set of receives follows
    directly: SIPp aborts a call on a message that arrives while it sits on a <nop>."""
    def recvs():
        r = f'''  <recv request="INVITE" optional="true" next="{w}_reinvite">
    <action>
      <!-- ereg leaves a variable alone when it does not match: clear them first -->
      <assign assign_to="offer_sendonly" value="0"/>
      <assign assign_to="offer_recvonly" value="0"/>
      <assign assign_to="offer_inactive" value="0"/>
      <ereg regexp="a=sendonly" search_in="body" assign_to="offer_sendonly"/>
      <ereg regexp="a=recvonly" search_in="body" assign_to="offer_recvonly"/>
      <ereg regexp="a=inactive" search_in="body" assign_to="offer_inactive"/>
    </action>
  </recv>
  <recv request="UPDATE" optional="true" next="{w}_200"/>
  <recv request="OPTIONS" optional="true" next="{w}_200"/>
  <recv request="INFO" optional="true" next="{w}_200"/>
  <recv request="NOTIFY" optional="true" next="{w}_200"/>
  <recv request="ACK" optional="true" next="{w}"/>
'''
        if refer:
            r += f'''  <recv request="REFER" optional="true" next="{refer}">
    <action>
      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="refer_cseq"/>
      <ereg regexp=".*" search_in="hdr" header="Refer-To:" check_it="true" assign_to="refer_to"/>
    </action>
  </recv>
'''
        return r + f'''  <recv request="BYE" next="{end}"/>
'''
    return (f'''  <label id="{w}"/>
''' + recvs() + f'''
  <!-- a re-INVITE is answered in the direction RFC 3264 asks: hold (sendonly) with
       recvonly, inactive with inactive, recvonly with sendonly, anything else sendrecv. -->
  <label id="{w}_reinvite"/>
  <nop test="offer_inactive" next="{w}_dir_inactive"/>
  <nop test="offer_sendonly" next="{w}_dir_recvonly"/>
  <nop test="offer_recvonly" next="{w}_dir_sendonly"/>
  <nop next="{w}_answer"><action><assignstr assign_to="answer_dir" value="sendrecv"/></action></nop>
  <label id="{w}_dir_inactive"/>
  <nop next="{w}_answer"><action><assignstr assign_to="answer_dir" value="inactive"/></action></nop>
  <label id="{w}_dir_recvonly"/>
  <nop next="{w}_answer"><action><assignstr assign_to="answer_dir" value="recvonly"/></action></nop>
  <label id="{w}_dir_sendonly"/>
  <nop next="{w}_answer"><action><assignstr assign_to="answer_dir" value="sendonly"/></action></nop>
  <label id="{w}_answer"/>
{resp(200, "OK", sdp=True, totag=False, retrans=True, sdp_lines=SDP_DIR)}''' + recvs() + f'''
  <label id="{w}_200"/>
{resp(200, "OK", contact=False, rr=False, totag=False)}''' + recvs() + "\n")

BYE_OK = resp(200, "OK", contact=False, rr=False, totag=False)
TAIL = '''  <!-- Absorb retransmissions while our last answer is on its way. -->
  <timewait milliseconds="500"/>
'''
CANCELLED = (resp(200, "OK", contact=False, rr=False) +
             resp(487, "Request Terminated", contact=False, rr=False, retrans=True,
                  cseq="CSeq: [last_cseq_number] INVITE") +
             '''  <recv request="ACK"/>
''')

def write(name, comment, body):
    open(name, "w").write(HDR + f"<!-- {comment}\n     Generated by make_uas.py: edit that and run it in this folder. -->\n<scenario name=\"{name[:-4]}\">\n" +
                          body + "</scenario>\n")

RING = (resp(100, "Trying", contact=False, rr=False, totag=False) + resp(180, "Ringing"))

write("uas_answer.xml", """UAS: answers one call: 100, 180, (-d ms of ringing), 200 with SDP (PCMU +
     telephone-event), receives the ACK, then stays in the call until a BYE (answered 200).
     While up it answers a re-INVITE (200, same SDP), UPDATE, OPTIONS, INFO and NOTIFY with
     200. With -rtp_echo (harness.sipp.SippUas's default) it echoes RTP on [media_port].
     The INVITE's Record-Route is copied into the answers, so it works behind a proxy.""",
      INVITE + RING + '''  <pause/>
''' + resp(200, "OK", sdp=True, retrans=True) + '''  <recv request="ACK" crlf="true"/>

''' + in_dialog("up", "bye") + '''  <label id="bye"/>
''' + BYE_OK + TAIL + REFS)

write("uas_busy.xml", "UAS: refuses one call with 486 Busy Here (after 100 Trying), absorbs the ACK.",
      INVITE + resp(100, "Trying", contact=False, rr=False, totag=False) +
      resp(486, "Busy Here", contact=False, rr=False, retrans=True) + '''  <recv request="ACK"/>
''' + TAIL + REFS_BASIC)

write("uas_no_answer.xml", """UAS: rings (100, 180) and never answers. A CANCEL gets 200 and the INVITE
     487, then the ACK is absorbed. If nobody cancels, SIPp's -timeout ends the run
     (exit 1, the call counts as failed).""",
      INVITE + RING + '''  <recv request="CANCEL"/>
''' + CANCELLED + TAIL + REFS_BASIC)

write("uas_early_media.xml", """UAS: 100, then 183 Session Progress with SDP (early media: with -rtp_echo
     the caller hears its own audio before the answer), then 200 OK (same SDP) 3000 ms later
     (SippUas(early_ms=...) changes that), ACK, and up until BYE like uas_answer. A CANCEL
     during early media gets 200 and the INVITE 487.""",
      INVITE + resp(100, "Trying", contact=False, rr=False, totag=False) +
      resp(183, "Session Progress", sdp=True) +
      '''  <recv request="CANCEL" timeout="3000" ontimeout="answer"/>
  <nop next="cancelled"/>

  <label id="answer"/>
''' + resp(200, "OK", sdp=True, retrans=True) + '''  <recv request="ACK" crlf="true"/>

''' + in_dialog("up", "bye") + '''  <label id="cancelled"/>
''' + CANCELLED + '''  <nop next="done"/>

  <!-- The BYE's answer is the last message: over TCP the caller may close its connection
       right after it, and a call that still has a step to run then counts as failed. -->
  <label id="bye"/>
''' + BYE_OK + '''  <label id="done"/>
''' + TAIL + REFS)

NOTIFY = msg([
    "NOTIFY [next_url] SIP/2.0",
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport",
    "From: <[$local_uri]>;tag=[pid]SIPpTag01[call_number]",
    "To:[$remote_from]",
    "Call-ID: [call_id]",
    "CSeq: 1 NOTIFY",
    "[routes]",
    "Contact: <sip:uas@[local_ip]:[local_port];transport=[transport]>",
    "Max-Forwards: 70",
    "Event: refer;id=[$refer_cseq]",
    "Subscription-State: terminated;reason=noresource",
    "Content-Type: message/sipfrag;version=2.0",
    "Content-Length: [len]",
    "",
    "SIP/2.0 200 OK"], retrans=True)

write("uas_accept_refer.xml", """UAS: answers a call like uas_answer, then receives a REFER from the caller
     (blind transfer of this leg), answers 202 Accepted and sends one NOTIFY (Event: refer,
     Subscription-State terminated, body message/sipfrag "SIP/2.0 200 OK": the transfer
     "succeeded"), expects the NOTIFY's 200 and then the caller's BYE. It does not call the
     Refer-To target; the REFER's Refer-To is in the messages log. A BYE without any REFER
     fails the call.""",
      INVITE + RING + resp(200, "OK", sdp=True, retrans=True) +
      '''  <recv request="ACK" crlf="true"/>

''' + in_dialog("up", "bye_without_refer", refer="refer") +
      '''  <label id="refer"/>
''' + resp(202, "Accepted", totag=False, rr=False) + NOTIFY +
      '''  <!-- The NOTIFY's answer (200, or 481 from a UA that already forgot the subscription);
       a UA may also hang up before answering it. -->
  <recv response="200" optional="true" next="transferred"/>
  <recv response="481" optional="true" next="transferred"/>
  <recv request="BYE" next="bye"/>
''' + in_dialog("transferred", "bye") + '''  <label id="bye_without_refer"/>
''' + BYE_OK + '''  <!-- A BYE before any REFER: this call did not do what the test wanted. -->
  <nop>
    <action>
      <error message="BYE arrived before any REFER"/>
    </action>
  </nop>
  <label id="bye"/>
''' + BYE_OK + TAIL + '''  <Reference variables="remote_from,local_uri,refer_to,offer_sendonly,offer_recvonly,offer_inactive"/>
''')
