# Raw generic-netlink probe of IPVS errnos for requests ipvsadm cannot express.
# Run in the IPVS VM (a fresh netns is best):
#   tests/vm/lvs-vm run -- unshare -n sh -c 'ip link set lo up; python3 tests/parity/probe_errnos.py'
# Prints one 'label: ERRNO' line per request; the answers are recorded in parity/mod.rs.
import socket, struct, os, errno as E
NETLINK_GENERIC=16; NLM_F_REQUEST=1; NLM_F_ACK=4; NLMSG_ERROR=2
s=socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC); s.bind((0,0))
seq=[0]
def attr(t, payload):
    l=4+len(payload); return struct.pack('=HH',l,t)+payload+b'\0'*((4-l%4)%4)
def nest(t, *attrs): return attr(t, b''.join(attrs))
u8=lambda t,v: attr(t,struct.pack('=B',v)); u16=lambda t,v: attr(t,struct.pack('=H',v)); u32=lambda t,v: attr(t,struct.pack('=I',v))
be16=lambda t,v: attr(t,struct.pack('>H',v)); strz=lambda t,v: attr(t,v.encode()+b'\0')
def req(fam, cmd, *attrs, ver=1):
    seq[0]+=1
    body=struct.pack('=BBH',cmd,ver,0)+b''.join(attrs)
    s.send(struct.pack('=IHHII',16+len(body),fam,NLM_F_REQUEST|NLM_F_ACK,seq[0],0)+body)
    while True:
        d=s.recv(65536); off=0
        while off<len(d):
            l,t,f,sq,pid=struct.unpack_from('=IHHII',d,off)
            if t==NLMSG_ERROR and sq==seq[0]:
                return -struct.unpack_from('=i',d,off+16)[0]
            if sq==seq[0] and t==fam: payload=d[off:off+l]; return payload
            off+=(l+3)&~3
# resolve family
r=req(0x10, 3, strz(2,'IPVS'))  # CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME
fam=None; off=20
while off<len(r):
    l,t=struct.unpack_from('=HH',r,off)
    if t==1: fam=struct.unpack_from('=H',r,off+4)[0]
    off+=(l+3)&~3
def v4(a): return socket.inet_pton(socket.AF_INET,a)+b'\0'*12
def v6(a): return socket.inet_pton(socket.AF_INET6,a)
def svc(af,addr,port,sched='rr',proto=6,fwmark=None,netmask=0xffffffff,timeout=0,flags=0,pe=None):
    a=[u16(1,af)]
    if fwmark is not None: a.append(u32(5,fwmark))
    else: a+= [u16(2,proto), attr(3,addr), be16(4,port)]
    a+=[strz(6,sched), attr(7,struct.pack('=II',flags,0xffffffff)), u32(8,timeout), u32(9,netmask)]
    if pe is not None: a.append(strz(11,pe))
    return nest(1,*a)
def dest(af,addr,port,fwd=3,weight=1,u=0,l=0,tun_type=None,tun_port=None):
    a=[attr(1,addr),be16(2,port),u32(3,fwd),u32(4,weight),u32(5,u),u32(6,l),u16(11,af)]
    if tun_type is not None: a.append(u8(13,tun_type))
    if tun_port is not None: a.append(be16(14,tun_port))
    return nest(2,*a)
def daemon(state, ifn, syncid=0, group=None, group6=None):
    a=[u32(1,state), strz(2,ifn), u32(3,syncid)]
    if group: a.append(attr(5, socket.inet_pton(socket.AF_INET,group)))
    if group6: a.append(attr(6, v6(group6)))
    return nest(3,*a)
def t(name, *a):
    r=req(fam,*a); print(f"{name}: {E.errorcode.get(r,r) if r else 'OK'}")
S4=svc(2,v4('10.0.0.1'),80)
t('add svc', 1, S4)
t('long sched (16)', 1, svc(2,v4('10.0.0.2'),80,sched='abcdefghijklmnop'))
t('long sched (15, unknown)', 1, svc(2,v4('10.0.0.2'),80,sched='abcdefghijklmno'))
t('long pe (17)', 1, svc(2,v4('10.0.0.2'),80,pe='abcdefghijklmnopq'))
t('pe 16 unknown', 1, svc(2,v4('10.0.0.2'),80,pe='abcdefghijklmnop'))
t('empty sched', 1, svc(2,v4('10.0.0.2'),80,sched=''))
t('empty pe', 1, svc(2,v4('10.0.0.3'),80,pe=''))
t('v6 prefix 0', 1, svc(10,v6('2001:db8::1'),80,netmask=0))
t('v6 prefix 129', 1, svc(10,v6('2001:db8::1'),80,netmask=129))
t('fwmark 0', 1, svc(2,None,0,fwmark=0))
t('tcp 0.0.0.0:0 after fwmark0', 1, svc(2,v4('0.0.0.0'),0))
t('proto 47', 1, svc(2,v4('10.0.0.4'),80,proto=47))
t('timeout huge', 1, svc(2,v4('10.0.0.5'),80,timeout=17179870,flags=1))
t('hashed flag in add', 1, svc(2,v4('10.0.0.6'),80,flags=2))
t('add svc 10.0.0.6 again', 1, svc(2,v4('10.0.0.6'),80))
t('gue port 0', 5, S4, dest(2,v4('10.0.0.9'),80,fwd=2,tun_type=1,tun_port=0))
t('gue port 0 on DR', 5, S4, dest(2,v4('10.0.0.9'),80,fwd=3,tun_type=1,tun_port=0))
t('mixed DR', 5, S4, dest(10,v6('2001:db8::2'),80,fwd=3))
t('mixed masq', 5, S4, dest(10,v6('2001:db8::2'),80,fwd=0))
t('mixed fwd 10 (masked 2)', 5, S4, dest(10,v6('2001:db8::2'),80,fwd=10))
t('fwd 5', 5, S4, dest(2,v4('10.0.0.7'),80,fwd=5))
t('weight -1', 5, S4, dest(2,v4('10.0.0.8'),80,weight=0xffffffff))
t('dup with -1 weight', 5, S4, dest(2,v4('10.0.0.7'),80,weight=0xffffffff))
t('dup', 5, S4, dest(2,v4('10.0.0.7'),80))
t('timeouts 8589935', 12, u32(4,10), u32(6,8589935))
t('timeouts 8589934', 12, u32(4,8589934))
t('timeouts 0x80000000', 12, u32(4,0x80000000))
t('daemon bad group', 9, daemon(1,'lo',group='10.0.0.1'))
t('daemon bad group6', 9, daemon(1,'lo',group6='2001:db8::1'))
t('daemon state 3', 9, daemon(3,'lo'))
t('daemon state 3 bad if', 9, daemon(3,'nosuch'))
t('daemon long ifname', 9, daemon(1,'abcdefghijklmnop'))
t('daemon 15 ifname', 9, daemon(1,'abcdefghijklmno'))
t('del daemon state 3', 10, nest(3, u32(1,3)))

# daemon checks on a clean table (mixed-family dests above make every start EINVAL)
t('flush', 17)
t('daemon state 3', 9, daemon(3,'lo'))
t('daemon state 3 bad if', 9, daemon(3,'nosuch'))
t('daemon state 0 bad if', 9, daemon(0,'nosuch'))
t('daemon long ifname', 9, daemon(1,'abcdefghijklmnop'))
t('daemon 15 ifname', 9, daemon(1,'abcdefghijklmno'))
t('daemon bad group bad if', 9, daemon(1,'nosuch',group='10.0.0.1'))
t('master lo', 9, daemon(1,'lo'))
t('master again bad if', 9, daemon(1,'nosuch'))
t('master again', 9, daemon(1,'lo'))
t('backup bad group', 9, daemon(2,'lo',group='10.0.0.1'))
t('del daemon state 3', 10, nest(3, u32(1,3)))
t('del daemon state 0', 10, nest(3, u32(1,0)))
t('del master', 10, nest(3, u32(1,1)))
t('del master', 10, nest(3, u32(1,1)))
