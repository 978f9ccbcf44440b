package model

// Embedding is x_t = Tok[token_t] + Pos[position_t] (Pos nil: no position
// term, as with RoPE); rows whose token is negative take the visual token
// vis[−token_t − 1] instead of Tok.
//
// Backward scatters δ_t into ∂Tok[token_t] (or ∂vis) and ∂Pos[position_t].
type Embedding struct {
	Tok, Pos *Param // [V, D], [MaxLen, D]
	D        int
}

// Forward writes x[n, D].
func (e *Embedding) Forward(x []float32, tokens, pos []int32, vis []float32) {
	d := e.D
	for t, tok := range tokens {
		row := x[t*d : (t+1)*d]
		if tok >= 0 {
			copy(row, e.Tok.W[int(tok)*d:(int(tok)+1)*d])
		} else {
			v := int(-tok - 1)
			copy(row, vis[v*d:(v+1)*d])
		}
		if e.Pos != nil {
			axpy(row, 1, e.Pos.W[int(pos[t])*d:(int(pos[t])+1)*d])
		}
	}
}

// Backward accumulates ∂Tok and ∂Pos (when grads) and writes the visual rows'
// δ into dvis (overwriting) when dvis is non-nil.
func (e *Embedding) Backward(dx []float32, tokens, pos []int32, dvis []float32, grads bool) {
	d := e.D
	for t, tok := range tokens {
		row := dx[t*d : (t+1)*d]
		if tok >= 0 {
			if grads && !e.Tok.Frozen {
				axpy(e.Tok.G[int(tok)*d:(int(tok)+1)*d], 1, row)
			}
		} else if dvis != nil {
			v := int(-tok - 1)
			copy(dvis[v*d:(v+1)*d], row)
		}
		if grads && e.Pos != nil && !e.Pos.Frozen {
			axpy(e.Pos.G[int(pos[t])*d:(int(pos[t])+1)*d], 1, row)
		}
	}
}
