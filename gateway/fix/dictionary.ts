// The FIX 4.4 subset the gateway speaks, written from the FIX 4.4 specification
// (Volume 1 for the data types, Volumes 2-4 and 6 for the messages, fields and
// enumerations). Names, types, enumerations and required flags follow the
// specification exactly, so that a FIX 4.4 engine on the other side needs no
// custom dictionary; `test/gateway-codec.test.ts` checks every entry against
// jspurefix's copy of the QuickFIX FIX44.xml. The only departures are listed
// in EXTENSIONS.
//
// Why a subset: session-level validation (Reject 373) needs to know every field
// a message may carry. A field FIX 4.4 defines for a message but that we leave
// out is answered as an invalid tag (373=0): the exchange does not use it and
// silently ignoring it would pretend otherwise. Components (Instrument,
// OrderQtyData, ...) are flattened into the messages; only the parts the
// exchange can honour are kept. Data fields (RawData, EncodedText, ...) are
// left out on purpose: a value that may contain SOH needs its length field
// first, and nothing here needs one.

export type FixType =
  | 'int'
  | 'SeqNum'
  | 'Length'
  | 'NumInGroup'
  | 'Qty'
  | 'Price'
  | 'PriceOffset'
  | 'Amt'
  | 'float'
  | 'char'
  | 'Boolean'
  | 'String'
  | 'MultipleValueString'
  | 'Exchange'
  | 'Currency'
  | 'UTCTimestamp'
  | 'UTCTimeOnly'
  | 'UTCDateOnly'
  | 'LocalMktDate';

export interface FieldDef {
  readonly tag: number;
  /** The FIX dictionary name, also the FIX JSON name. */
  readonly name: string;
  readonly type: FixType;
  /** The values FIX enumerates for the field (code → FIX name); absent when free-form. */
  readonly values?: ReadonlyMap<string, string>;
  /**
   * matchlog's range on top of FIX's format: FIX lets a Qty or Price be
   * negative (spreads, adjustments), an exchange order cannot, and saying so
   * at the session level (373=5) keeps nonsense out of the order path.
   */
  readonly range?: 'positive' | 'nonNegative';
}

export interface MemberDef {
  readonly tag: number;
  readonly required: boolean;
  /** Set when `tag` is a NumInGroup field: the group it counts. */
  readonly group?: GroupDef;
}

export interface GroupDef {
  /** The NumInGroup field. */
  readonly countTag: number;
  /** The first member: every instance starts with it. */
  readonly delimiter: number;
  /** In the order FIX requires inside an instance; members[0] is the delimiter. */
  readonly members: readonly MemberDef[];
  /** tag → position in `members`. */
  readonly position: ReadonlyMap<number, number>;
}

export interface MessageDef {
  readonly msgType: string;
  readonly name: string;
  /** Session-level (admin) message, as opposed to an application message. */
  readonly admin: boolean;
  /** Top-level body fields in FIX order (group members live in their group). */
  readonly body: readonly MemberDef[];
  /** Top-level body tag → member. */
  readonly fields: ReadonlyMap<number, MemberDef>;
}

/**
 * Where matchlog steps outside FIX 4.4, and why. `field` is set for a tag FIX
 * 4.4 does not define at all: its name and type here (taken from `source`)
 * are what the dictionary must say, and the codec test holds it to that.
 */
export const EXTENSIONS: readonly {
  readonly tag: number;
  readonly msgTypes: readonly string[];
  readonly field?: { readonly name: string; readonly type: FixType; readonly source: string };
  readonly why: string;
}[] = [
  {
    tag: 7928,
    msgTypes: ['D', 'G'],
    field: { name: 'SelfTradePrevention', type: 'int', source: 'matchlog (user-defined range 5000-9999)' },
    why: 'SelfTradePrevention: FIX 4.4 has no self-trade prevention field; a user-defined tag (5000-9999) carries the mode: 1 cancel resting (default), 2 cancel incoming, 3 cancel both',
  },
  {
    tag: 83,
    msgTypes: ['X'],
    why: 'RptSeq inside NoMDEntries: FIX 5.0 puts it there (MDIncGrp), FIX 4.4 does not; a per-symbol sequence is the only way a FIX 4.4 client can see a lost increment',
  },
  {
    tag: 2446,
    msgTypes: ['X'],
    field: { name: 'AggressorSide', type: 'char', source: 'FIX 5.0 SP2 (MDIncGrp)' },
    why: 'AggressorSide inside NoMDEntries, on trade entries: FIX 4.4 has no field saying which side took liquidity; a trade tape shows it (1 buy, 2 sell)',
  },
  {
    tag: 969,
    msgTypes: ['y'],
    field: { name: 'MinPriceIncrement', type: 'float', source: 'FIX 5.0 (Instrument component)' },
    why: 'MinPriceIncrement inside NoRelatedSym: FIX 4.4 has no tick size field; a client must know the tick to send a price the engine takes',
  },
  {
    tag: 1140,
    msgTypes: ['y'],
    field: { name: 'MaxTradeVol', type: 'Qty', source: 'FIX 5.0 (BaseTradingRules component)' },
    why: 'MaxTradeVol inside NoRelatedSym, only for an instrument with a maximum order quantity: FIX 4.4 has MinTradeVol but no maximum',
  },
];

// --- fields -----------------------------------------------------------------

/** `'1:BUY 2:SELL'` → Map; the names are FIX's symbolic names. */
function values(spec: string): ReadonlyMap<string, string> {
  const m = new Map<string, string>();
  for (const pair of spec.trim().split(/\s+/)) {
    const i = pair.indexOf(':');
    m.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return m;
}

const BOOLEAN = values('Y:YES N:NO');

const FIELD_LIST: FieldDef[] = [
  { tag: 1, name: 'Account', type: 'String' },
  { tag: 6, name: 'AvgPx', type: 'Price' },
  { tag: 7, name: 'BeginSeqNo', type: 'SeqNum' },
  { tag: 8, name: 'BeginString', type: 'String' },
  { tag: 9, name: 'BodyLength', type: 'Length' },
  { tag: 10, name: 'CheckSum', type: 'String' },
  { tag: 11, name: 'ClOrdID', type: 'String' },
  { tag: 14, name: 'CumQty', type: 'Qty' },
  { tag: 15, name: 'Currency', type: 'Currency' },
  { tag: 16, name: 'EndSeqNo', type: 'SeqNum' },
  { tag: 17, name: 'ExecID', type: 'String' },
  {
    tag: 18,
    name: 'ExecInst',
    type: 'MultipleValueString',
    values: values(`
      1:NOT_HELD 2:WORK 3:GO_ALONG 4:OVER_THE_DAY 5:HELD 6:PARTICIPATE_DONT_INITIATE 7:STRICT_SCALE
      8:TRY_TO_SCALE 9:STAY_ON_BIDSIDE 0:STAY_ON_OFFERSIDE A:NO_CROSS B:OK_TO_CROSS C:CALL_FIRST
      D:PERCENT_OF_VOLUME E:DO_NOT_INCREASE F:DO_NOT_REDUCE G:ALL_OR_NONE H:REINSTATE_ON_SYSTEM_FAILURE
      I:INSTITUTIONS_ONLY J:REINSTATE_ON_TRADING_HALT K:CANCEL_ON_TRADING_HALT L:LAST_PEG M:MID_PRICE_PEG
      N:NON_NEGOTIABLE O:OPENING_PEG P:MARKET_PEG Q:CANCEL_ON_SYSTEM_FAILURE R:PRIMARY_PEG S:SUSPEND
      U:CUSTOMER_DISPLAY_INSTRUCTION V:NETTING W:PEG_TO_VWAP X:TRADE_ALONG Y:TRY_TO_STOP
      Z:CANCEL_IF_NOT_BEST a:TRAILING_STOP_PEG b:STRICT_LIMIT c:IGNORE_PRICE_VALIDITY_CHECKS
      d:PEG_TO_LIMIT_PRICE e:WORK_TO_TARGET_STRATEGY`),
  },
  { tag: 19, name: 'ExecRefID', type: 'String' },
  {
    tag: 21,
    name: 'HandlInst',
    type: 'char',
    values: values(`
      1:AUTOMATED_EXECUTION_ORDER_PRIVATE_NO_BROKER_INTERVENTION
      2:AUTOMATED_EXECUTION_ORDER_PUBLIC_BROKER_INTERVENTION_OK 3:MANUAL_ORDER_BEST_EXECUTION`),
  },
  {
    tag: 22,
    name: 'SecurityIDSource',
    type: 'String',
    values: values(`
      1:CUSIP 2:SEDOL 3:QUIK 4:ISIN_NUMBER 5:RIC_CODE 6:ISO_CURRENCY_CODE 7:ISO_COUNTRY_CODE
      8:EXCHANGE_SYMBOL 9:CONSOLIDATED_TAPE_ASSOCIATION A:BLOOMBERG_SYMBOL B:WERTPAPIER C:DUTCH
      D:VALOREN E:SICOVAM F:BELGIAN G:COMMON H:CLEARING_HOUSE I:ISDA_FPML_PRODUCT_SPECIFICATION
      J:OPTIONS_PRICE_REPORTING_AUTHORITY`),
  },
  { tag: 29, name: 'LastCapacity', type: 'char', values: values('1:AGENT 2:CROSS_AS_AGENT 3:CROSS_AS_PRINCIPAL 4:PRINCIPAL') },
  { tag: 30, name: 'LastMkt', type: 'Exchange' },
  { tag: 31, name: 'LastPx', type: 'Price' },
  { tag: 32, name: 'LastQty', type: 'Qty' },
  { tag: 34, name: 'MsgSeqNum', type: 'SeqNum' },
  {
    tag: 35,
    name: 'MsgType',
    type: 'String',
    // every message FIX 4.4 defines: 373=11 for anything else, BusinessMessageReject
    // 380=3 for a FIX 4.4 message the exchange does not take
    values: values(`
      0:HEARTBEAT 1:TEST_REQUEST 2:RESEND_REQUEST 3:REJECT 4:SEQUENCE_RESET 5:LOGOUT
      6:INDICATION_OF_INTEREST 7:ADVERTISEMENT 8:EXECUTION_REPORT 9:ORDER_CANCEL_REJECT A:LOGON
      B:NEWS C:EMAIL D:ORDER_SINGLE E:ORDER_LIST F:ORDER_CANCEL_REQUEST G:ORDER_CANCEL_REPLACE_REQUEST
      H:ORDER_STATUS_REQUEST J:ALLOCATION_INSTRUCTION K:LIST_CANCEL_REQUEST L:LIST_EXECUTE
      M:LIST_STATUS_REQUEST N:LIST_STATUS P:ALLOCATION_INSTRUCTION_ACK Q:DONT_KNOW_TRADE
      R:QUOTE_REQUEST S:QUOTE T:SETTLEMENT_INSTRUCTIONS V:MARKET_DATA_REQUEST
      W:MARKET_DATA_SNAPSHOT_FULL_REFRESH X:MARKET_DATA_INCREMENTAL_REFRESH
      Y:MARKET_DATA_REQUEST_REJECT Z:QUOTE_CANCEL a:QUOTE_STATUS_REQUEST b:MASS_QUOTE_ACKNOWLEDGEMENT
      c:SECURITY_DEFINITION_REQUEST d:SECURITY_DEFINITION e:SECURITY_STATUS_REQUEST f:SECURITY_STATUS
      g:TRADING_SESSION_STATUS_REQUEST h:TRADING_SESSION_STATUS i:MASS_QUOTE j:BUSINESS_MESSAGE_REJECT
      k:BID_REQUEST l:BID_RESPONSE m:LIST_STRIKE_PRICE n:XML_MESSAGE o:REGISTRATION_INSTRUCTIONS
      p:REGISTRATION_INSTRUCTIONS_RESPONSE q:ORDER_MASS_CANCEL_REQUEST r:ORDER_MASS_CANCEL_REPORT
      s:NEW_ORDER_CROSS t:CROSS_ORDER_CANCEL_REPLACE_REQUEST u:CROSS_ORDER_CANCEL_REQUEST
      v:SECURITY_TYPE_REQUEST w:SECURITY_TYPES x:SECURITY_LIST_REQUEST y:SECURITY_LIST
      z:DERIVATIVE_SECURITY_LIST_REQUEST AA:DERIVATIVE_SECURITY_LIST AB:NEW_ORDER_MULTILEG
      AC:MULTILEG_ORDER_CANCEL_REPLACE AD:TRADE_CAPTURE_REPORT_REQUEST AE:TRADE_CAPTURE_REPORT
      AF:ORDER_MASS_STATUS_REQUEST AG:QUOTE_REQUEST_REJECT AH:RFQ_REQUEST AI:QUOTE_STATUS_REPORT
      AJ:QUOTE_RESPONSE AK:CONFIRMATION AL:POSITION_MAINTENANCE_REQUEST AM:POSITION_MAINTENANCE_REPORT
      AN:REQUEST_FOR_POSITIONS AO:REQUEST_FOR_POSITIONS_ACK AP:POSITION_REPORT
      AQ:TRADE_CAPTURE_REPORT_REQUEST_ACK AR:TRADE_CAPTURE_REPORT_ACK AS:ALLOCATION_REPORT
      AT:ALLOCATION_REPORT_ACK AU:CONFIRMATION_ACK AV:SETTLEMENT_INSTRUCTION_REQUEST
      AW:ASSIGNMENT_REPORT AX:COLLATERAL_REQUEST AY:COLLATERAL_ASSIGNMENT AZ:COLLATERAL_RESPONSE
      BA:COLLATERAL_REPORT BB:COLLATERAL_INQUIRY BC:NETWORK_STATUS_REQUEST BD:NETWORK_STATUS_RESPONSE
      BE:USER_REQUEST BF:USER_RESPONSE BG:COLLATERAL_INQUIRY_ACK BH:CONFIRMATION_REQUEST`),
  },
  { tag: 36, name: 'NewSeqNo', type: 'SeqNum' },
  { tag: 37, name: 'OrderID', type: 'String' },
  { tag: 38, name: 'OrderQty', type: 'Qty', range: 'positive' },
  {
    tag: 39,
    name: 'OrdStatus',
    type: 'char',
    values: values(`
      0:NEW 1:PARTIALLY_FILLED 2:FILLED 3:DONE_FOR_DAY 4:CANCELED 6:PENDING_CANCEL 7:STOPPED
      8:REJECTED 9:SUSPENDED A:PENDING_NEW B:CALCULATED C:EXPIRED D:ACCEPTED_FOR_BIDDING E:PENDING_REPLACE`),
  },
  {
    tag: 40,
    name: 'OrdType',
    type: 'char',
    values: values(`
      1:MARKET 2:LIMIT 3:STOP 4:STOP_LIMIT 6:WITH_OR_WITHOUT 7:LIMIT_OR_BETTER 8:LIMIT_WITH_OR_WITHOUT
      9:ON_BASIS D:PREVIOUSLY_QUOTED E:PREVIOUSLY_INDICATED G:FOREX I:FUNARI J:MARKET_IF_TOUCHED
      K:MARKET_WITH_LEFTOVER_AS_LIMIT L:PREVIOUS_FUND_VALUATION_POINT M:NEXT_FUND_VALUATION_POINT P:PEGGED`),
  },
  { tag: 41, name: 'OrigClOrdID', type: 'String' },
  { tag: 43, name: 'PossDupFlag', type: 'Boolean', values: BOOLEAN },
  { tag: 44, name: 'Price', type: 'Price', range: 'positive' },
  { tag: 45, name: 'RefSeqNum', type: 'SeqNum' },
  { tag: 48, name: 'SecurityID', type: 'String' },
  { tag: 49, name: 'SenderCompID', type: 'String' },
  { tag: 50, name: 'SenderSubID', type: 'String' },
  { tag: 52, name: 'SendingTime', type: 'UTCTimestamp' },
  {
    tag: 54,
    name: 'Side',
    type: 'char',
    values: values(`
      1:BUY 2:SELL 3:BUY_MINUS 4:SELL_PLUS 5:SELL_SHORT 6:SELL_SHORT_EXEMPT 7:UNDISCLOSED 8:CROSS
      9:CROSS_SHORT A:CROSS_SHORT_EXEMPT B:AS_DEFINED C:OPPOSITE D:SUBSCRIBE E:REDEEM F:LEND G:BORROW`),
  },
  { tag: 55, name: 'Symbol', type: 'String' },
  { tag: 56, name: 'TargetCompID', type: 'String' },
  { tag: 57, name: 'TargetSubID', type: 'String' },
  { tag: 58, name: 'Text', type: 'String' },
  {
    tag: 59,
    name: 'TimeInForce',
    type: 'char',
    values: values(`
      0:DAY 1:GOOD_TILL_CANCEL 2:AT_THE_OPENING 3:IMMEDIATE_OR_CANCEL 4:FILL_OR_KILL
      5:GOOD_TILL_CROSSING 6:GOOD_TILL_DATE 7:AT_THE_CLOSE`),
  },
  { tag: 60, name: 'TransactTime', type: 'UTCTimestamp' },
  { tag: 65, name: 'SymbolSfx', type: 'String' },
  { tag: 66, name: 'ListID', type: 'String' },
  { tag: 75, name: 'TradeDate', type: 'LocalMktDate' },
  { tag: 83, name: 'RptSeq', type: 'int' },
  { tag: 97, name: 'PossResend', type: 'Boolean', values: BOOLEAN },
  {
    tag: 98,
    name: 'EncryptMethod',
    type: 'int',
    values: values('0:NONE 1:PKCS 2:DES 3:PKCS_DES 4:PGP_DES 5:PGP_DES_MD5 6:PEM_DES_MD5'),
  },
  { tag: 99, name: 'StopPx', type: 'Price' },
  { tag: 100, name: 'ExDestination', type: 'Exchange' },
  {
    tag: 102,
    name: 'CxlRejReason',
    type: 'int',
    values: values(`
      0:TOO_LATE_TO_CANCEL 1:UNKNOWN_ORDER 2:BROKER 3:ORDER_ALREADY_IN_PENDING_CANCEL_OR_PENDING_REPLACE_STATUS
      4:UNABLE_TO_PROCESS_ORDER_MASS_CANCEL_REQUEST 5:ORIGORDMODTIME 6:DUPLICATE_CLORDID 99:OTHER`),
  },
  {
    tag: 103,
    name: 'OrdRejReason',
    type: 'int',
    values: values(`
      0:BROKER 1:UNKNOWN_SYMBOL 2:EXCHANGE_CLOSED 3:ORDER_EXCEEDS_LIMIT 4:TOO_LATE_TO_ENTER
      5:UNKNOWN_ORDER 6:DUPLICATE_ORDER 7:DUPLICATE_OF_A_VERBALLY_COMMUNICATED_ORDER 8:STALE_ORDER
      9:TRADE_ALONG_REQUIRED 10:INVALID_INVESTOR_ID 11:UNSUPPORTED_ORDER_CHARACTERISTIC
      12:SURVEILLENCE_OPTION 13:INCORRECT_QUANTITY 14:INCORRECT_ALLOCATED_QUANTITY 15:UNKNOWN_ACCOUNT 99:OTHER`),
  },
  { tag: 107, name: 'SecurityDesc', type: 'String' },
  { tag: 108, name: 'HeartBtInt', type: 'int', range: 'nonNegative' },
  { tag: 110, name: 'MinQty', type: 'Qty' },
  { tag: 111, name: 'MaxFloor', type: 'Qty' },
  { tag: 112, name: 'TestReqID', type: 'String' },
  { tag: 115, name: 'OnBehalfOfCompID', type: 'String' },
  { tag: 116, name: 'OnBehalfOfSubID', type: 'String' },
  { tag: 122, name: 'OrigSendingTime', type: 'UTCTimestamp' },
  { tag: 123, name: 'GapFillFlag', type: 'Boolean', values: BOOLEAN },
  { tag: 126, name: 'ExpireTime', type: 'UTCTimestamp' },
  { tag: 128, name: 'DeliverToCompID', type: 'String' },
  { tag: 129, name: 'DeliverToSubID', type: 'String' },
  { tag: 141, name: 'ResetSeqNumFlag', type: 'Boolean', values: BOOLEAN },
  { tag: 142, name: 'SenderLocationID', type: 'String' },
  { tag: 143, name: 'TargetLocationID', type: 'String' },
  { tag: 144, name: 'OnBehalfOfLocationID', type: 'String' },
  { tag: 145, name: 'DeliverToLocationID', type: 'String' },
  { tag: 146, name: 'NoRelatedSym', type: 'NumInGroup' },
  {
    tag: 150,
    name: 'ExecType',
    type: 'char',
    values: values(`
      0:NEW 3:DONE_FOR_DAY 4:CANCELED 5:REPLACE 6:PENDING_CANCEL 7:STOPPED 8:REJECTED 9:SUSPENDED
      A:PENDING_NEW B:CALCULATED C:EXPIRED D:RESTATED E:PENDING_REPLACE F:TRADE G:TRADE_CORRECT
      H:TRADE_CANCEL I:ORDER_STATUS`),
  },
  { tag: 151, name: 'LeavesQty', type: 'Qty' },
  { tag: 152, name: 'CashOrderQty', type: 'Qty' },
  {
    tag: 167,
    name: 'SecurityType',
    type: 'String',
    values: values(`
      FUT:FUTURE OPT:OPTION EUSUPRA:EURO_SUPRANATIONAL_COUPONS FAC:FEDERAL_AGENCY_COUPON
      FADN:FEDERAL_AGENCY_DISCOUNT_NOTE PEF:PRIVATE_EXPORT_FUNDING SUPRA:USD_SUPRANATIONAL_COUPONS
      CORP:CORPORATE_BOND CPP:CORPORATE_PRIVATE_PLACEMENT CB:CONVERTIBLE_BOND DUAL:DUAL_CURRENCY
      EUCORP:EURO_CORPORATE_BOND XLINKD:INDEXED_LINKED STRUCT:STRUCTURED_NOTES YANK:YANKEE_CORPORATE_BOND
      FOR:FOREIGN_EXCHANGE_CONTRACT CS:COMMON_STOCK PS:PREFERRED_STOCK BRADY:BRADY_BOND EUSOV:EURO_SOVEREIGNS
      TBOND:US_TREASURY_BOND TINT:INTEREST_STRIP_FROM_ANY_BOND_OR_NOTE
      TIPS:TREASURY_INFLATION_PROTECTED_SECURITIES TCAL:PRINCIPAL_STRIP_OF_A_CALLABLE_BOND_OR_NOTE
      TPRN:PRINCIPAL_STRIP_FROM_A_NON_CALLABLE_BOND_OR_NOTE UST:US_TREASURY_NOTE_UST
      USTB:US_TREASURY_BILL_USTB TNOTE:US_TREASURY_NOTE_TNOTE TBILL:US_TREASURY_BILL_TBILL
      REPO:REPURCHASE FORWARD:FORWARD BUYSELL:BUY_SELLBACK SECLOAN:SECURITIES_LOAN
      SECPLEDGE:SECURITIES_PLEDGE TERM:TERM_LOAN RVLV:REVOLVER_LOAN RVLVTRM:REVOLVER_TERM_LOAN
      BRIDGE:BRIDGE_LOAN LOFC:LETTER_OF_CREDIT SWING:SWING_LINE_FACILITY DINP:DEBTOR_IN_POSSESSION
      DEFLTED:DEFAULTED WITHDRN:WITHDRAWN REPLACD:REPLACED MATURED:MATURED AMENDED:AMENDED_RESTATED
      RETIRED:RETIRED BA:BANKERS_ACCEPTANCE BN:BANK_NOTES BOX:BILL_OF_EXCHANGES CD:CERTIFICATE_OF_DEPOSIT
      CL:CALL_LOANS CP:COMMERCIAL_PAPER DN:DEPOSIT_NOTES EUCD:EURO_CERTIFICATE_OF_DEPOSIT
      EUCP:EURO_COMMERCIAL_PAPER LQN:LIQUIDITY_NOTE MTN:MEDIUM_TERM_NOTES ONITE:OVERNIGHT
      PN:PROMISSORY_NOTE PZFJ:PLAZOS_FIJOS STN:SHORT_TERM_LOAN_NOTE TD:TIME_DEPOSIT
      XCN:EXTENDED_COMM_NOTE YCD:YANKEE_CERTIFICATE_OF_DEPOSIT ABS:ASSET_BACKED_SECURITIES
      CMBS:CORP_MORTGAGE_BACKED_SECURITIES CMO:COLLATERALIZED_MORTGAGE_OBLIGATION IET:IOETTE_MORTGAGE
      MBS:MORTGAGE_BACKED_SECURITIES MIO:MORTGAGE_INTEREST_ONLY MPO:MORTGAGE_PRINCIPAL_ONLY
      MPP:MORTGAGE_PRIVATE_PLACEMENT MPT:MISCELLANEOUS_PASS_THROUGH PFAND:PFANDBRIEFE TBA:TO_BE_ANNOUNCED
      AN:OTHER_ANTICIPATION_NOTES COFO:CERTIFICATE_OF_OBLIGATION COFP:CERTIFICATE_OF_PARTICIPATION
      GO:GENERAL_OBLIGATION_BONDS MT:MANDATORY_TENDER RAN:REVENUE_ANTICIPATION_NOTE REV:REVENUE_BONDS
      SPCLA:SPECIAL_ASSESSMENT SPCLO:SPECIAL_OBLIGATION SPCLT:SPECIAL_TAX TAN:TAX_ANTICIPATION_NOTE
      TAXA:TAX_ALLOCATION TECP:TAX_EXEMPT_COMMERCIAL_PAPER TRAN:TAX_REVENUE_ANTICIPATION_NOTE
      VRDN:VARIABLE_RATE_DEMAND_NOTE WAR:WARRANT MF:MUTUAL_FUND MLEG:MULTI_LEG_INSTRUMENT
      NONE:NO_SECURITY_TYPE`),
  },
  { tag: 168, name: 'EffectiveTime', type: 'UTCTimestamp' },
  { tag: 198, name: 'SecondaryOrderID', type: 'String' },
  { tag: 207, name: 'SecurityExchange', type: 'Exchange' },
  { tag: 229, name: 'TradeOriginationDate', type: 'LocalMktDate' },
  { tag: 262, name: 'MDReqID', type: 'String' },
  {
    tag: 263,
    name: 'SubscriptionRequestType',
    type: 'char',
    values: values('0:SNAPSHOT 1:SNAPSHOT_PLUS_UPDATES 2:DISABLE_PREVIOUS_SNAPSHOT_PLUS_UPDATE_REQUEST'),
  },
  { tag: 264, name: 'MarketDepth', type: 'int', range: 'nonNegative' },
  { tag: 265, name: 'MDUpdateType', type: 'int', values: values('0:FULL_REFRESH 1:INCREMENTAL_REFRESH') },
  { tag: 266, name: 'AggregatedBook', type: 'Boolean', values: BOOLEAN },
  { tag: 267, name: 'NoMDEntryTypes', type: 'NumInGroup' },
  { tag: 268, name: 'NoMDEntries', type: 'NumInGroup' },
  {
    tag: 269,
    name: 'MDEntryType',
    type: 'char',
    values: values(`
      0:BID 1:OFFER 2:TRADE 3:INDEX_VALUE 4:OPENING_PRICE 5:CLOSING_PRICE 6:SETTLEMENT_PRICE
      7:TRADING_SESSION_HIGH_PRICE 8:TRADING_SESSION_LOW_PRICE 9:TRADING_SESSION_VWAP_PRICE
      A:IMBALANCE B:TRADE_VOLUME C:OPEN_INTEREST`),
  },
  { tag: 270, name: 'MDEntryPx', type: 'Price' },
  { tag: 271, name: 'MDEntrySize', type: 'Qty' },
  { tag: 272, name: 'MDEntryDate', type: 'UTCDateOnly' },
  { tag: 273, name: 'MDEntryTime', type: 'UTCTimeOnly' },
  { tag: 274, name: 'TickDirection', type: 'char', values: values('0:PLUS_TICK 1:ZERO_PLUS_TICK 2:MINUS_TICK 3:ZERO_MINUS_TICK') },
  { tag: 275, name: 'MDMkt', type: 'Exchange' },
  { tag: 278, name: 'MDEntryID', type: 'String' },
  { tag: 279, name: 'MDUpdateAction', type: 'char', values: values('0:NEW 1:CHANGE 2:DELETE') },
  { tag: 280, name: 'MDEntryRefID', type: 'String' },
  {
    tag: 281,
    name: 'MDReqRejReason',
    type: 'char',
    values: values(`
      0:UNKNOWN_SYMBOL 1:DUPLICATE_MDREQID 2:INSUFFICIENT_BANDWIDTH 3:INSUFFICIENT_PERMISSIONS
      4:UNSUPPORTED_SUBSCRIPTIONREQUESTTYPE 5:UNSUPPORTED_MARKETDEPTH 6:UNSUPPORTED_MDUPDATETYPE
      7:UNSUPPORTED_AGGREGATEDBOOK 8:UNSUPPORTED_MDENTRYTYPE 9:UNSUPPORTED_TRADINGSESSIONID
      A:UNSUPPORTED_SCOPE B:UNSUPPORTED_OPENCLOSESETTLEFLAG C:UNSUPPORTED_MDIMPLICITDELETE`),
  },
  { tag: 285, name: 'DeleteReason', type: 'char', values: values('0:CANCELATION 1:ERROR') },
  { tag: 288, name: 'MDEntryBuyer', type: 'String' },
  { tag: 289, name: 'MDEntrySeller', type: 'String' },
  { tag: 290, name: 'MDEntryPositionNo', type: 'int' },
  { tag: 336, name: 'TradingSessionID', type: 'String' },
  { tag: 320, name: 'SecurityReqID', type: 'String' },
  { tag: 322, name: 'SecurityResponseID', type: 'String' },
  { tag: 346, name: 'NumberOfOrders', type: 'int' },
  { tag: 369, name: 'LastMsgSeqNumProcessed', type: 'SeqNum' },
  { tag: 371, name: 'RefTagID', type: 'int' },
  { tag: 372, name: 'RefMsgType', type: 'String' },
  {
    tag: 373,
    name: 'SessionRejectReason',
    type: 'int',
    values: values(`
      0:INVALID_TAG_NUMBER 1:REQUIRED_TAG_MISSING 2:TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE
      3:UNDEFINED_TAG 4:TAG_SPECIFIED_WITHOUT_A_VALUE 5:VALUE_IS_INCORRECT
      6:INCORRECT_DATA_FORMAT_FOR_VALUE 7:DECRYPTION_PROBLEM 8:SIGNATURE_PROBLEM 9:COMPID_PROBLEM
      10:SENDINGTIME_ACCURACY_PROBLEM 11:INVALID_MSGTYPE 12:XML_VALIDATION_ERROR
      13:TAG_APPEARS_MORE_THAN_ONCE 14:TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER
      15:REPEATING_GROUP_FIELDS_OUT_OF_ORDER 16:INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP
      17:NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER 99:OTHER`),
  },
  { tag: 379, name: 'BusinessRejectRefID', type: 'String' },
  {
    tag: 380,
    name: 'BusinessRejectReason',
    type: 'int',
    values: values(`
      0:OTHER 1:UNKNOWN_ID 2:UNKNOWN_SECURITY 3:UNSUPPORTED_MESSAGE_TYPE 4:APPLICATION_NOT_AVAILABLE
      5:CONDITIONALLY_REQUIRED_FIELD_MISSING 6:NOT_AUTHORIZED 7:DELIVERTO_FIRM_NOT_AVAILABLE_AT_THIS_TIME`),
  },
  { tag: 381, name: 'GrossTradeAmt', type: 'Amt' },
  { tag: 383, name: 'MaxMessageSize', type: 'Length' },
  { tag: 384, name: 'NoMsgTypes', type: 'NumInGroup' },
  { tag: 393, name: 'TotNoRelatedSym', type: 'int' },
  { tag: 385, name: 'MsgDirection', type: 'char', values: values('S:SEND R:RECEIVE') },
  { tag: 386, name: 'NoTradingSessions', type: 'NumInGroup' },
  { tag: 432, name: 'ExpireDate', type: 'LocalMktDate' },
  { tag: 434, name: 'CxlRejResponseTo', type: 'char', values: values('1:ORDER_CANCEL_REQUEST 2:ORDER_CANCEL_REPLACE_REQUEST') },
  { tag: 451, name: 'NetChgPrevDay', type: 'PriceOffset' },
  { tag: 464, name: 'TestMessageIndicator', type: 'Boolean', values: BOOLEAN },
  { tag: 526, name: 'SecondaryClOrdID', type: 'String' },
  { tag: 527, name: 'SecondaryExecID', type: 'String' },
  {
    tag: 528,
    name: 'OrderCapacity',
    type: 'char',
    values: values('A:AGENCY G:PROPRIETARY I:INDIVIDUAL P:PRINCIPAL R:RISKLESS_PRINCIPAL W:AGENT_FOR_OTHER_MEMBER'),
  },
  {
    tag: 530,
    name: 'MassCancelRequestType',
    type: 'char',
    values: values(`
      1:CANCEL_ORDERS_FOR_A_SECURITY 2:CANCEL_ORDERS_FOR_AN_UNDERLYING_SECURITY
      3:CANCEL_ORDERS_FOR_A_PRODUCT 4:CANCEL_ORDERS_FOR_A_CFICODE 5:CANCEL_ORDERS_FOR_A_SECURITYTYPE
      6:CANCEL_ORDERS_FOR_A_TRADING_SESSION 7:CANCEL_ALL_ORDERS`),
  },
  {
    tag: 531,
    name: 'MassCancelResponse',
    type: 'char',
    values: values(`
      0:CANCEL_REQUEST_REJECTED 1:CANCEL_ORDERS_FOR_A_SECURITY 2:CANCEL_ORDERS_FOR_AN_UNDERLYING_SECURITY
      3:CANCEL_ORDERS_FOR_A_PRODUCT 4:CANCEL_ORDERS_FOR_A_CFICODE 5:CANCEL_ORDERS_FOR_A_SECURITYTYPE
      6:CANCEL_ORDERS_FOR_A_TRADING_SESSION 7:CANCEL_ALL_ORDERS`),
  },
  {
    tag: 532,
    name: 'MassCancelRejectReason',
    type: 'char',
    values: values(`
      0:MASS_CANCEL_NOT_SUPPORTED 1:INVALID_OR_UNKNOWN_SECURITY 2:INVALID_OR_UNKNOWN_UNDERLYING
      3:INVALID_OR_UNKNOWN_PRODUCT 4:INVALID_OR_UNKNOWN_CFICODE 5:INVALID_OR_UNKNOWN_SECURITY_TYPE
      6:INVALID_OR_UNKNOWN_TRADING_SESSION 99:OTHER`),
  },
  { tag: 533, name: 'TotalAffectedOrders', type: 'int' },
  { tag: 534, name: 'NoAffectedOrders', type: 'NumInGroup' },
  { tag: 535, name: 'AffectedOrderID', type: 'String' },
  { tag: 536, name: 'AffectedSecondaryOrderID', type: 'String' },
  { tag: 547, name: 'MDImplicitDelete', type: 'Boolean', values: BOOLEAN },
  { tag: 553, name: 'Username', type: 'String' },
  { tag: 554, name: 'Password', type: 'String' },
  {
    tag: 559,
    name: 'SecurityListRequestType',
    type: 'int',
    values: values('0:SYMBOL 1:SECURITYTYPE_AND_OR_CFICODE 2:PRODUCT 3:TRADINGSESSIONID 4:ALL_SECURITIES'),
  },
  {
    tag: 560,
    name: 'SecurityRequestResult',
    type: 'int',
    values: values(`
      0:VALID_REQUEST 1:INVALID_OR_UNSUPPORTED_REQUEST 2:NO_INSTRUMENTS_FOUND_THAT_MATCH_SELECTION_CRITERIA
      3:NOT_AUTHORIZED_TO_RETRIEVE_INSTRUMENT_DATA 4:INSTRUMENT_DATA_TEMPORARILY_UNAVAILABLE
      5:REQUEST_FOR_INSTRUMENT_DATA_NOT_SUPPORTED`),
  },
  { tag: 561, name: 'RoundLot', type: 'Qty' },
  { tag: 562, name: 'MinTradeVol', type: 'Qty' },
  { tag: 583, name: 'ClOrdLinkID', type: 'String' },
  { tag: 584, name: 'MassStatusReqID', type: 'String' },
  {
    tag: 585,
    name: 'MassStatusReqType',
    type: 'int',
    // FIX's values; the exchange answers 1 and 7, the others get BusinessMessageReject 380=0 (gateway/README.md)
    values: values(`
      1:STATUS_FOR_ORDERS_FOR_A_SECURITY 2:STATUS_FOR_ORDERS_FOR_AN_UNDERLYING_SECURITY
      3:STATUS_FOR_ORDERS_FOR_A_PRODUCT 4:STATUS_FOR_ORDERS_FOR_A_CFICODE 5:STATUS_FOR_ORDERS_FOR_A_SECURITYTYPE
      6:STATUS_FOR_ORDERS_FOR_A_TRADING_SESSION 7:STATUS_FOR_ALL_ORDERS 8:STATUS_FOR_ORDERS_FOR_A_PARTYID`),
  },
  { tag: 586, name: 'OrigOrdModTime', type: 'UTCTimestamp' },
  { tag: 625, name: 'TradingSessionSubID', type: 'String' },
  { tag: 636, name: 'WorkingIndicator', type: 'Boolean', values: BOOLEAN },
  { tag: 789, name: 'NextExpectedMsgSeqNum', type: 'SeqNum' },
  { tag: 790, name: 'OrdStatusReqID', type: 'String' },
  { tag: 813, name: 'ApplQueueDepth', type: 'int' },
  {
    tag: 814,
    name: 'ApplQueueResolution',
    type: 'int',
    values: values('0:NO_ACTION_TAKEN 1:QUEUE_FLUSHED 2:OVERLAY_LAST 3:END_SESSION'),
  },
  { tag: 851, name: 'LastLiquidityInd', type: 'int', values: values('1:ADDED_LIQUIDITY 2:REMOVED_LIQUIDITY 3:LIQUIDITY_ROUTED_OUT') },
  { tag: 893, name: 'LastFragment', type: 'Boolean', values: BOOLEAN },
  { tag: 911, name: 'TotNumReports', type: 'int' },
  { tag: 912, name: 'LastRptRequested', type: 'Boolean' },
  // FIX 5.0's, in y only (EXTENSIONS)
  { tag: 969, name: 'MinPriceIncrement', type: 'float' },
  { tag: 1140, name: 'MaxTradeVol', type: 'Qty' },
  // FIX 5.0 SP2's, in X trade entries only (EXTENSIONS)
  { tag: 2446, name: 'AggressorSide', type: 'char' },
  {
    tag: 7928,
    name: 'SelfTradePrevention',
    type: 'int',
    values: values('1:CANCEL_RESTING 2:CANCEL_INCOMING 3:CANCEL_BOTH'),
  },
];

const BY_TAG = new Map<number, FieldDef>();
const BY_NAME = new Map<string, FieldDef>();
for (const f of FIELD_LIST) {
  BY_TAG.set(f.tag, f);
  BY_NAME.set(f.name, f);
}

export function fieldDef(tag: number): FieldDef | undefined {
  return BY_TAG.get(tag);
}

export function fieldByName(name: string): FieldDef | undefined {
  return BY_NAME.get(name);
}

export function allFields(): Iterable<FieldDef> {
  return BY_TAG.values();
}

// --- messages ---------------------------------------------------------------
//
// Bodies are written as `tag` (optional) / `tag!` (required) in FIX order; a
// group is `count{delimiter member ...}` (`count!{...}` when the group itself
// is required). The Instrument component is Symbol 55, SymbolSfx 65,
// SecurityID 48, SecurityIDSource 22, SecurityType 167, SecurityExchange 207,
// SecurityDesc 107; OrderQtyData is OrderQty 38, CashOrderQty 152.

function parseMembers(spec: string): MemberDef[] {
  const tokens = spec.match(/\d+!?|\{|\}/g) ?? [];
  let i = 0;
  const list = (): MemberDef[] => {
    const out: MemberDef[] = [];
    while (i < tokens.length && tokens[i] !== '}') {
      const t = tokens[i++];
      const tag = Number.parseInt(t, 10);
      const required = t.endsWith('!');
      if (tokens[i] === '{') {
        i++;
        const members = list();
        i++; // '}'
        const position = new Map<number, number>();
        members.forEach((m, k) => position.set(m.tag, k));
        out.push({ tag, required, group: { countTag: tag, delimiter: members[0].tag, members, position } });
      } else {
        out.push({ tag, required });
      }
    }
    return out;
  };
  return list();
}

const INSTRUMENT = '55 65 48 22 167 207 107';

const MESSAGE_SPECS: [msgType: string, name: string, admin: boolean, body: string][] = [
  ['0', 'Heartbeat', true, '112'],
  ['1', 'TestRequest', true, '112!'],
  ['2', 'ResendRequest', true, '7! 16!'],
  ['3', 'Reject', true, '45! 371 372 373 58'],
  ['4', 'SequenceReset', true, '123 36!'],
  ['5', 'Logout', true, '58'],
  ['A', 'Logon', true, '98! 108! 141 789 383 384{372 385} 464 553 554'],
  [
    'D',
    'NewOrderSingle',
    false,
    `11! 526 583 1 21 18 110 111 100 386{336 625} ${INSTRUMENT} 54! 60! 38 152 40! 44 99 15 59 168 432 126 528 58 7928`,
  ],
  ['F', 'OrderCancelRequest', false, `41! 37 11! 526 583 1 ${INSTRUMENT} 54! 60! 38 152 58`],
  [
    'G',
    'OrderCancelReplaceRequest',
    false,
    `37 41! 11! 526 583 1 21 18 110 111 100 386{336 625} ${INSTRUMENT} 54! 60! 38 152 40! 44 99 15 59 168 432 126 528 58 7928`,
  ],
  ['H', 'OrderStatusRequest', false, `37 11! 526 583 790 1 ${INSTRUMENT} 54!`],
  // Account and Symbol only: Parties, trading sessions, the rest of Instrument, UnderlyingInstrument and Side
  // would select what the exchange does not filter by
  ['AF', 'OrderMassStatusRequest', false, '584! 585! 1 55'],
  ['q', 'OrderMassCancelRequest', false, `11! 526 530! 336 625 ${INSTRUMENT} 54 60! 58`],
  ['r', 'OrderMassCancelReport', false, `11 526 37! 198 530! 531! 532 533 534{41 535 536} 336 625 ${INSTRUMENT} 54 60 58`],
  [
    '8',
    'ExecutionReport',
    false,
    `37! 198 526 527 11 41 583 790 584 911 912 66 17! 19 150! 39! 636 103 1 ${INSTRUMENT} 54! 38 152 40 44 99 15 59
     168 432 126 18 528 32 31 30 336 625 29 151! 14! 6! 75 60 381 21 110 111 58 851`,
  ],
  ['9', 'OrderCancelReject', false, '37! 198 526 11! 583 41! 39! 636 586 66 1 229 75 60 434! 102 58'],
  ['j', 'BusinessMessageReject', false, '45 372! 379 380! 58'],
  ['V', 'MarketDataRequest', false, `262! 263! 264! 265 266 547 267!{269!} 146!{${INSTRUMENT}} 386{336 625}`],
  [
    'W',
    'MarketDataSnapshotFullRefresh',
    false,
    `262 ${INSTRUMENT} 451 268!{269! 270 15 271 272 273 274 275 336 625 37 288 289 346 290 58} 813 814`,
  ],
  [
    'X',
    'MarketDataIncrementalRefresh',
    false,
    `262 268!{279! 285 269 278 280 ${INSTRUMENT} 270 15 271 272 273 274 275 336 625 37 288 289 346 290 451 58 83 2446} 813 814`,
  ],
  ['Y', 'MarketDataRequestReject', false, '262! 281 58'],
  // Symbol only of the Instrument component: the list is filtered by nothing else
  ['x', 'SecurityListRequest', false, '320! 559! 55 263'],
  ['y', 'SecurityList', false, '320! 322! 560! 393 893 146{55 561 562 969 1140}'],
];

const MESSAGES = new Map<string, MessageDef>();
for (const [msgType, name, admin, spec] of MESSAGE_SPECS) {
  const body = parseMembers(spec);
  const fields = new Map<number, MemberDef>();
  for (const m of body) fields.set(m.tag, m);
  MESSAGES.set(msgType, { msgType, name, admin, body, fields });
}

export function messageDef(msgType: string): MessageDef | undefined {
  return MESSAGES.get(msgType);
}

export function allMessages(): Iterable<MessageDef> {
  return MESSAGES.values();
}

/**
 * The standard header after BeginString, BodyLength and MsgType, in FIX order.
 * Left out: SecureData/XmlData (data fields), MessageEncoding (no encoded
 * fields here), the Hop group (no intermediaries).
 */
export const HEADER: readonly MemberDef[] = parseMembers('49! 56! 115 128 34! 50 142 57 143 116 144 129 145 43 97 52! 122 369');

const HEADER_SET = new Set<number>([8, 9, 35, ...HEADER.map((m) => m.tag)]);

/** Header tags, BeginString, BodyLength and MsgType included. */
export function isHeaderTag(tag: number): boolean {
  return HEADER_SET.has(tag);
}

/** The session-level message types (FIX's "admin" category). */
export function isAdminMsgType(msgType: string): boolean {
  return msgType.length === 1 && '012345A'.includes(msgType);
}

/** Every MsgType value FIX 4.4 defines. */
export function isFix44MsgType(msgType: string): boolean {
  return BY_TAG.get(35)?.values?.has(msgType) ?? false;
}
